"""Region codes (行政区划代码) and the demo network of 长治市 (140400).

County codes are the real ones. Township (9-digit) and village (12-digit) codes and
names are SYNTHETIC demo data, generated deterministically — flagged `demo=True`.
Township counts follow seed 003 where it gives them and make up the city total of
128 stations; village-room counts likewise (黎城 185, 壶关 282, 长子 302).

Pure data and lookups: no I/O, safe to import anywhere.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

PROVINCE = ("140000", "山西省")
CITY = ("140400", "长治市")

# (code, name, township stations, village rooms or None) — stations/rooms from seed 003 where reported.
COUNTIES: list[tuple[str, str, int, int | None]] = [
    ("140403", "潞州区", 14, None),
    ("140404", "上党区", 11, None),
    ("140405", "屯留区", 10, None),
    ("140406", "潞城区", 9, None),
    ("140423", "襄垣县", 9, None),
    ("140425", "平顺县", 11, None),
    ("140426", "黎城县", 8, 185),
    ("140427", "壶关县", 10, 282),
    ("140428", "长子县", 11, 302),
    ("140429", "武乡县", 12, None),
    ("140430", "沁县", 11, None),
    ("140431", "沁源县", 12, None),
]
DEFAULT_VILLAGES_PER_TOWNSHIP = 16

_PLACE_CHARS = "东西南北上下大小新老河山石泉柳杨李王张沟坡庄堡寨营岭川峪源泽峰凤龙安和平丰乐宁康福兴"
_TOWN_SUFFIX = ["镇", "乡", "街道"]
_VILLAGE_SUFFIX = ["村", "村", "村", "社区"]


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    level: str  # province | city | county | township | village
    parent: str | None
    demo: bool = False

    @property
    def county_code(self) -> str | None:
        return self.code[:6] if self.level in ("county", "township", "village") else None


def _name(rng: random.Random, suffixes: list[str], used: set[str]) -> str:
    while True:
        name = rng.choice(_PLACE_CHARS) + rng.choice(_PLACE_CHARS) + rng.choice(suffixes)
        if name not in used and name[0] != name[1]:
            used.add(name)
            return name


@lru_cache(maxsize=1)
def demo_regions() -> dict[str, Region]:
    """Every region of the demo city, keyed by code. Same output on every machine."""
    rng = random.Random(140400)
    out: dict[str, Region] = {
        PROVINCE[0]: Region(PROVINCE[0], PROVINCE[1], "province", None),
        CITY[0]: Region(CITY[0], CITY[1], "city", PROVINCE[0]),
    }
    for code, name, n_towns, n_villages in COUNTIES:
        out[code] = Region(code, name, "county", CITY[0])
        used: set[str] = set()
        per_town = [DEFAULT_VILLAGES_PER_TOWNSHIP] * n_towns
        if n_villages:
            base, extra = divmod(n_villages, n_towns)
            per_town = [base + (1 if i < extra else 0) for i in range(n_towns)]
        for t in range(n_towns):
            tcode = f"{code}{t + 1:03d}"
            out[tcode] = Region(tcode, _name(rng, _TOWN_SUFFIX, used), "township", code, demo=True)
            vused: set[str] = set()
            for v in range(per_town[t]):
                vcode = f"{tcode}{v + 1:03d}"
                out[vcode] = Region(vcode, _name(rng, _VILLAGE_SUFFIX, vused), "village", tcode, demo=True)
    return out


def lookup(code: str) -> Region | None:
    return demo_regions().get(code)


def chain(code: str) -> list[Region]:
    """village → township → county → city → province (the region and its ancestors)."""
    out: list[Region] = []
    region = lookup(code)
    while region is not None:
        out.append(region)
        region = lookup(region.parent) if region.parent else None
    return out


def county_of(code: str) -> str | None:
    region = lookup(code)
    return region.county_code if region else None


def full_name(code: str) -> str:
    return "".join(r.name for r in reversed(chain(code)))


def children(code: str) -> list[Region]:
    return [r for r in demo_regions().values() if r.parent == code]


def counties() -> list[Region]:
    return [demo_regions()[c[0]] for c in COUNTIES]
