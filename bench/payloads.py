"""Realistic, varied work orders: the labelled citizen requests of requests-sample.jsonl
(Chinese), every channel, regions all over the demo city, Chinese names, mobiles and
landlines. Seeded."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

from libs.common import regions
from libs.common.demo_network import GIVEN, SURNAMES

SAMPLE = Path("/work/shared/data/requests-sample.jsonl")
CHANNELS = ("web", "hotline", "counter", "external")
# Every order a process generates gets a phone no other order of that process has: intake
# merges a request from the same phone with a similar open order into it as an urge (并单),
# so factories with the same seed in two rounds against one database would otherwise
# measure the merge path (and orders dispatch never sees) instead of new orders.
_SERIAL = itertools.count()
_SERVICE_ALIASES = {"admin_reconsideration": "administrative_reconsideration"}
_FALLBACK = [
    ("老板拖欠我三个月工资，一共一万八，想申请法律援助。", "legal_aid"),
    ("邻居家空调外机正对着我家窗户，噪音大还滴水，希望社区调解。", "mediation"),
    ("公司没有提前通知就把我开除了，能拿多少补偿？", "consultation"),
]


def samples() -> list[tuple[str, str]]:
    if not SAMPLE.exists():
        return list(_FALLBACK)
    out = []
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append((row["text"], _SERVICE_ALIASES.get(row["service"], row["service"])))
    return out


class OrderFactory:
    def __init__(self, seed: int = 12348) -> None:
        self.rng = random.Random(seed)
        self.samples = samples()
        self.regions = [
            r.code for r in regions.demo_regions().values() if r.level in ("county", "township", "village")
        ]
        self.n = 0

    def phone(self) -> str:
        n = next(_SERIAL)
        if self.rng.random() < 0.85:
            # n ↦ n·1,000,003 mod 10⁹ is a bijection (the factor is coprime with 10): unique digits
            # that do not look sequential.
            return f"1{self.rng.choice('3456789')}{n * 1_000_003 % 10**9:09d}"
        return f"0355-{2_000_000 + n * 7_919 % 8_000_000}"

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(
            self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2)))
        )

    def order(self) -> dict:
        text, service = self.rng.choice(self.samples)
        self.n += 1
        return {
            "channel": CHANNELS[self.n % len(CHANNELS)],
            "requester": {"name": self.name(), "phone": self.phone()},
            "region_code": self.rng.choice(self.regions),
            "service_type": service,
            "description": text,
        }
