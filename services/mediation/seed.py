"""Demo data: the committees of 长治市 and the mediators of the shared demo network.

Committees (人民调解法 Art 8) are generated deterministically from libs.common.regions:
a village committee per 村, a residents' committee per 社区, a township or street
committee per 乡镇/街道, a county joint committee, and two enterprise committees per
county. Mediators are the demo-network staff with the mediation skill — the SAME ids as
dispatch's staff, so availability events from dispatch land on the right row.
"""

from __future__ import annotations

import random
import uuid
from functools import lru_cache

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import demo_network, regions
from services.mediation.models import Committee, Mediator

_NS = uuid.UUID("6b1f6a52-3c55-4d55-9d0b-000000012348")
ENTERPRISES = [
    "煤业有限公司",
    "钢铁有限公司",
    "建筑工程有限公司",
    "交通运输有限公司",
    "化工有限公司",
    "电力有限公司",
]


def _kind_and_name(region: regions.Region) -> tuple[str, str]:
    if region.level == "village":
        kind = "residents" if region.name.endswith("社区") else "village"
    elif region.level == "township":
        kind = "street" if region.name.endswith("街道") else "township"
    else:
        kind = "county_joint"
        return kind, f"{region.name}联合人民调解委员会"
    return kind, f"{region.name}人民调解委员会"


@lru_cache(maxsize=1)
def demo_committees() -> list[dict]:
    rng = random.Random(1404_2010)
    rows: list[dict] = []
    for county in regions.counties():
        for region in [county, *_descendants(county.code)]:
            kind, name = _kind_and_name(region)
            code = f"TW{region.code}"
            rows.append(_row(code, name, kind, region.code, county.code))
        towns = regions.children(county.code)
        for i, industry in enumerate(rng.sample(ENTERPRISES, 2)):
            town = towns[rng.randrange(len(towns))]
            name = f"{town.name[:2]}{industry}人民调解委员会"
            rows.append(_row(f"TE{county.code}{i + 1:02d}", name, "enterprise", town.code, county.code))
    return rows


def _descendants(code: str) -> list[regions.Region]:
    out: list[regions.Region] = []
    for town in regions.children(code):
        out.append(town)
        out.extend(regions.children(town.code))
    return out


def _row(code: str, name: str, kind: str, region_code: str, county_code: str) -> dict:
    return {
        "id": uuid.uuid5(_NS, code),
        "code": code,
        "name": name,
        "kind": kind,
        "region_code": region_code,
        "county_code": county_code,
        "demo": True,
    }


def demo_mediators() -> list[dict]:
    _, staff = demo_network.build()
    return [
        {
            "staff_id": s.id,
            "name": s.name,
            "role": s.role,
            "skills": s.skills,
            "service_point_id": s.point.id,
            "county_code": s.point.county_code,
            "region_code": s.point.region_code,
            "active": True,
            "signed_in": False,
            "on_leave_until": None,
            "slots": [[d, f"{a:%H:%M}", f"{b:%H:%M}"] for d, a, b in s.slots],
            "as_of": None,
        }
        for s in staff
        if "mediation" in s.skills
    ]


async def seed(session: AsyncSession) -> None:
    # executemany (insertmanyvalues batches): far cheaper to compile than one giant VALUES list.
    await session.execute(insert(Committee).on_conflict_do_nothing(), demo_committees())
    await session.execute(insert(Mediator).on_conflict_do_nothing(), demo_mediators())
