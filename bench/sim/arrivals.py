"""Arrivals calibrated on seed 003 (长治市, 2023) and /work/shared/data/changzhi.json.

City-wide: 54,201 free consultations and 1,747 legal-aid cases a year. Counties with
a reported figure get it; counties without one share the remainder equally. Each
county's yearly volume is spread over the week with a daily and weekly profile
(working-hours peaks at 10:00 and 15:00, a lunch dip, evenings from the web channel,
weekends low) and generated as a non-homogeneous Poisson process by thinning.
Pure: no I/O except reading the JSON figures file; seeded with random.Random.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from libs.common import regions

FIGURES = Path("/work/shared/data/changzhi.json")
CITY_CONSULTATIONS = 54_201
CITY_AID_CASES = 1_747
# Figures reported in seed 003 (used when the JSON file is not available).
_REPORTED = {
    "consultations": {
        "140404": 4613, "140406": 2502, "140423": 2400, "140425": 2218, "140426": 2803,
        "140427": 3855, "140428": 4555, "140429": 4050, "140430": 3000, "140431": 4181,
    },
    "aid_cases": {"140406": 193, "140425": 100, "140426": 122, "140428": 100, "140429": 120,
                  "140430": 96, "140431": 115},
}  # fmt: skip

# Relative arrival intensity per local hour (0–23) on a working day.
HOURLY = [0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.4, 1.0, 2.0, 2.2, 1.8,
          0.8, 0.9, 1.8, 2.0, 1.6, 1.0, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]  # fmt: skip
# Relative intensity per weekday (Mon=0): Monday catch-up, Friday afternoon lighter, weekends low.
WEEKLY = [1.15, 1.05, 1.0, 1.0, 0.9, 0.25, 0.15]
DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class Arrival:
    at: datetime
    service_type: str  # consultation | legal_aid
    county_code: str
    region_code: str


def county_volumes(figures_path: Path | None = FIGURES) -> dict[str, dict[str, float]]:
    """{county_code: {"consultation": per year, "legal_aid": per year}}."""
    reported = {k: dict(v) for k, v in _REPORTED.items()}
    if figures_path is not None and figures_path.exists():
        data = json.loads(figures_path.read_text(encoding="utf-8"))
        reported = {"consultations": {}, "aid_cases": {}}
        for c in data["counties"]:
            for key in reported:
                if c.get(key) is not None:
                    reported[key][c["code"]] = c[key]
    codes = [c.code for c in regions.counties()]
    out: dict[str, dict[str, float]] = {code: {} for code in codes}
    for key, service, total in (
        ("consultations", "consultation", CITY_CONSULTATIONS),
        ("aid_cases", "legal_aid", CITY_AID_CASES),
    ):
        known = reported[key]
        missing = [c for c in codes if c not in known]
        share = (total - sum(known.values())) / len(missing) if missing else 0.0
        for code in codes:
            out[code][service] = float(known.get(code, share))
    return out


def week_profile() -> list[float]:
    """168 hourly weights (Mon 00:00 first), normalised to sum 1 over the week."""
    raw = [WEEKLY[d] * HOURLY[h] for d in range(7) for h in range(24)]
    total = sum(raw)
    return [w / total for w in raw]


def hourly_rate(per_year: float, profile: list[float], how: int) -> float:
    """Expected arrivals per hour in hour-of-week `how` for a yearly volume."""
    per_week = per_year * 7 / DAYS_PER_YEAR
    return per_week * profile[how]


@cache
def _children(code: str) -> list[regions.Region]:
    return regions.children(code)


def region_for(county_code: str, rng: random.Random) -> str:
    """Where the requester lives: 15 % the county code itself, 25 % a township, 60 % a village."""
    towns = _children(county_code)
    r = rng.random()
    if r < 0.15 or not towns:
        return county_code
    town = rng.choice(towns)
    villages = _children(town.code)
    if r < 0.40 or not villages:
        return town.code
    return rng.choice(villages).code


def generate(
    start: datetime, days: int, seed: int, *, volumes: dict[str, dict[str, float]] | None = None
) -> list[Arrival]:
    """Arrivals over [start, start + days); start is a local (CHINA_TZ) hour boundary."""
    rng = random.Random(seed)
    offset = start.weekday() * 24 + start.hour  # hour-of-week of t = 0
    volumes = volumes or county_volumes()
    profile = week_profile()
    out: list[Arrival] = []
    horizon = days * 24.0
    for county, by_service in sorted(volumes.items()):
        for service, per_year in sorted(by_service.items()):
            peak = max(hourly_rate(per_year, profile, h) for h in range(168))  # thinning bound
            if peak <= 0:
                continue
            t = 0.0  # hours since start
            while True:  # thinning (Lewis & Shedler): candidate at peak rate, keep with rate(t)/peak
                t += rng.expovariate(peak)
                if t >= horizon:
                    break
                how = (offset + int(t)) % 168
                if rng.random() * peak <= hourly_rate(per_year, profile, how):
                    out.append(Arrival(start + timedelta(hours=t), service, county, region_for(county, rng)))
    out.sort(key=lambda a: a.at)
    return out


def expected_count(
    days: int, volumes: dict[str, dict[str, float]] | None = None, start: datetime | None = None
) -> float:
    """Expected number of arrivals over `days` whole days from `start` (default: a Monday)."""
    volumes = volumes or county_volumes()
    profile = week_profile()
    offset = start.weekday() * 24 + start.hour if start else 0
    total = 0.0
    for by_service in volumes.values():
        for per_year in by_service.values():
            total += sum(hourly_rate(per_year, profile, (offset + h) % 168) for h in range(days * 24))
    return total


def lognormal_params(mean: float, sd: float) -> tuple[float, float]:
    """(mu, sigma) of the underlying normal for a lognormal with this mean and sd."""
    sigma2 = math.log(1 + (sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)
