"""The demo network of 长治市, generated deterministically from libs.common.regions.

Shared by every service that needs the same demo people (dispatch's staff, aid's
lawyers, mediation's mediators, the demo login accounts): same ids on every machine.

1 city centre, 12 county centres, 128 township stations, one village room per village
(one adviser serves up to 5 villages, 一村一法律顾问), with staff and weekly rosters:
county centres 5 days a week, township stations 1–2 days (≥ 4 h), village advisers a
few hours. All rows are flagged demo=True.

The city centre also keeps the 7×24 on-call tier (值班): duty lawyers (值班律师) and duty
aid officers in turns, a lawyer and an aid officer on every 12-hour shift (08:00–20:00,
20:00–08:00) of every day, weekends and holidays included — so an urgent or critical order
at 02:00 on a Sunday reaches someone who can accept it (dispatch's policy.yaml `on_call`).
They are appended after everyone else: no earlier id, name or staff code changed.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import time

from libs.common import regions

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国红梅志海晓东燕辉鹏飞宇浩然凯亮俊斌"

COUNTY_TEAM = [  # role, count, skills
    ("lawyer", 3, ["consultation", "lawyer_referral", "legal_aid", "mediation"]),
    ("legal_worker", 2, ["consultation", "mediation"]),
    ("mediator", 3, ["mediation", "consultation"]),
    ("aid_officer", 2, ["legal_aid", "consultation"]),
    ("notary", 1, ["notarization", "consultation"]),
]
WEEKDAYS_9_TO_5 = [(d, time(8, 30), time(17, 30)) for d in range(5)]
ON_CALL_LAWYERS, ON_CALL_AID_OFFICERS = 4, 3
ON_CALL_SKILLS = {"lawyer": ["on_call"], "aid_officer": ["on_call"]}  # only the on-call tier's orders
DAY_SHIFT, NIGHT_SHIFT = (time(8, 0), time(20, 0)), time(20, 0)


@dataclass
class DemoPoint:
    id: uuid.UUID
    code: str
    name: str
    tier: str
    region_code: str
    county_code: str | None
    parent_id: uuid.UUID | None
    windows: list[str]


@dataclass
class DemoStaff:
    id: uuid.UUID
    code: str
    name: str
    role: str
    skills: list[str]
    point: DemoPoint
    capacity: int
    slots: list[tuple[int, time, time]] = field(default_factory=list)
    practice_years: int = 0  # lawyers: years in practice (Art 26 of 法律援助法 needs ≥ 3 for grave cases)
    firm: str | None = None
    languages: list[str] = field(default_factory=lambda: ["普通话"])
    # 7×24 rota slots (weekday, start, end): that weekday of every week, holidays included.
    on_call: list[tuple[int, time, time]] = field(default_factory=list)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def build() -> tuple[list[DemoPoint], list[DemoStaff]]:
    rng = random.Random(12348)
    names: set[str] = set()

    def person() -> str:
        while True:
            n = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
            if n not in names:
                names.add(n)
                return n

    points: list[DemoPoint] = []
    staff: list[DemoStaff] = []

    def add_staff(point: DemoPoint, role: str, skills: list[str], capacity: int, slots) -> None:  # type: ignore[no-untyped-def]
        code = f"S{len(staff) + 1:05d}"
        member = DemoStaff(_uuid(rng), code, person(), role, skills, point, capacity, list(slots))
        if role == "lawyer":
            member.practice_years = rng.choice([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20])
            member.firm = (
                f"{(point.name[:3])}{rng.choice(['正义', '明德', '晋城', '太行', '上党', '诚信'])}律师事务所"
            )
        if rng.random() < 0.6:
            member.languages = ["普通话", "长治话"]
        staff.append(member)

    city = DemoPoint(
        _uuid(rng),
        "SP140400",
        "长治市公共法律服务中心",
        "city",
        "140400",
        None,
        None,
        ["12348热线", "法律援助", "综合受理", "7×24值班"],
    )
    points.append(city)
    for _ in range(6):
        add_staff(city, "operator", ["consultation"], 30, [(d, time(0, 0), time(23, 59)) for d in range(7)])
    for _ in range(2):
        add_staff(city, "aid_officer", ["legal_aid", "consultation"], 12, WEEKDAYS_9_TO_5)

    for county in regions.counties():
        centre = DemoPoint(
            _uuid(rng),
            f"SP{county.code}",
            f"{county.name}公共法律服务中心",
            "county",
            county.code,
            county.code,
            city.id,
            ["法律援助", "法律咨询", "人民调解", "公证", "投诉"],
        )
        points.append(centre)
        for role, count, skills in COUNTY_TEAM:
            for _ in range(count):
                add_staff(centre, role, skills, 12, WEEKDAYS_9_TO_5)
        for town in regions.children(county.code):
            station = DemoPoint(
                _uuid(rng),
                f"SP{town.code}",
                f"{town.name}公共法律服务工作站",
                "township",
                town.code,
                county.code,
                centre.id,
                ["法律咨询", "人民调解"],
            )
            points.append(station)
            days = rng.sample(range(5), rng.choice([1, 2]))
            add_staff(
                station,
                rng.choice(["lawyer", "legal_worker"]),
                ["consultation", "mediation"],
                8,
                [(d, time(9, 0), time(13, 0)) for d in days],
            )
            for _ in range(2):
                add_staff(station, "mediator", ["mediation"], 8, WEEKDAYS_9_TO_5)
            villages = regions.children(town.code)
            for i in range(0, len(villages), 5):
                group = villages[i : i + 5]
                rooms = []
                for v in group:
                    room = DemoPoint(
                        _uuid(rng),
                        f"SP{v.code}",
                        f"{v.name}法律服务室",
                        "village",
                        v.code,
                        county.code,
                        station.id,
                        ["法律咨询"],
                    )
                    points.append(room)
                    rooms.append(room)
                add_staff(
                    rooms[0],
                    rng.choice(["lawyer", "legal_worker"]),
                    ["consultation"],
                    5,
                    [(rng.randrange(5), time(14, 0), time(17, 0))],
                )
    # Last, so that nothing above changes: the city centre's on-call rota.
    lawyers = [_on_call_member(add_staff, city, "lawyer", staff) for _ in range(ON_CALL_LAWYERS)]
    aid = [_on_call_member(add_staff, city, "aid_officer", staff) for _ in range(ON_CALL_AID_OFFICERS)]
    for team in (lawyers, aid):
        for shift in range(14):  # Monday day, Monday night, … Sunday night
            team[shift % len(team)].on_call.extend(shift_slots(shift))
    return points, staff


def _on_call_member(add_staff, city: DemoPoint, role: str, staff: list[DemoStaff]) -> DemoStaff:  # type: ignore[no-untyped-def]
    add_staff(city, role, ON_CALL_SKILLS[role], 12, [])
    return staff[-1]


def shift_slots(shift: int) -> list[tuple[int, time, time]]:
    """The weekly slots of one 12-hour shift (0 = Monday day, 1 = Monday night, …): a night
    runs 20:00 to midnight and on into the next weekday until 08:00."""
    day = shift // 2
    if shift % 2 == 0:
        return [(day, *DAY_SHIFT)]
    return [(day, NIGHT_SHIFT, time.max), ((day + 1) % 7, time(0, 0), DAY_SHIFT[0])]


LEGAL_DOMAINS = (
    "labor",
    "marriage_family",
    "inheritance",
    "contract",
    "housing",
    "land",
    "neighbor",
    "personal_injury",
    "traffic",
    "consumer",
    "medical",
    "company",
    "criminal",
    "administrative",
    "social_security",
)


def skill_levels(member: DemoStaff) -> dict[str, int]:
    """Proficiency 1–5 per service type and legal domain, derived from the staff code alone
    (its own RNG, so adding this changed no id or name that build() produces)."""
    rng = random.Random(f"levels:{member.code}")
    base = 3 if member.point.tier in ("city", "county") else 2
    levels = {skill: min(5, base + rng.choice([-1, 0, 0, 1, 2])) for skill in member.skills}
    if member.role in ("lawyer", "legal_worker", "aid_officer"):
        for d in rng.sample(LEGAL_DOMAINS, 3 if member.role == "lawyer" else 2):
            levels[d] = rng.choice([2, 3, 3, 4, 4, 5]) if member.role == "lawyer" else rng.choice([2, 3])
    if member.role == "mediator":
        for d in ("neighbor", "marriage_family", "land"):
            levels[d] = rng.choice([2, 3, 4])
    return levels
