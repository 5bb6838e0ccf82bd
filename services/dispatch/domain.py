"""Routing rules — pure, no I/O, unit-tested.

The seeds' rule: what cannot be served directly is judged by its nature and the
resources available now, and dispatched to the right window and person. This
foundation version: the county centre of the order's county; staff whose skills
cover the service type; on duty now before anyone else; then the lowest load
relative to capacity; then whoever has waited longest since their last assignment.
If nobody is on duty, the order waits for whoever comes on duty first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from libs.common.clock import CHINA_TZ

# Which roles can take which service type (the window that serves it).
ROLES_FOR_SERVICE: dict[str, tuple[str, ...]] = {
    "legal_aid": ("aid_officer",),
    "mediation": ("mediator",),
    "notarization": ("notary",),
    "consultation": ("lawyer", "legal_worker"),
    "lawyer_referral": ("lawyer",),
}
DEFAULT_ROLES = ("lawyer", "legal_worker")


@dataclass(frozen=True)
class Slot:
    weekday: int
    start: time
    end: time


@dataclass
class StaffView:
    id: str
    name: str
    role: str
    skills: frozenset[str]
    service_point_id: str
    service_point_name: str
    tier: str
    county_code: str | None
    capacity: int
    load: int
    slots: list[Slot] = field(default_factory=list)
    last_assigned_at: datetime | None = None


@dataclass
class OrderView:
    id: str
    service_type: str
    county_code: str


@dataclass
class Candidate:
    staff_id: str
    name: str
    score: tuple
    on_duty: bool
    next_duty: datetime | None
    passed_over: str | None = None


@dataclass
class Decision:
    rule: str
    chosen: StaffView | None
    reason: str
    candidates: list[Candidate]


def on_duty(slots: list[Slot], at: datetime) -> bool:
    local = at.astimezone(CHINA_TZ)
    return any(s.weekday == local.weekday() and s.start <= local.time() < s.end for s in slots)


def next_duty(slots: list[Slot], at: datetime, horizon_days: int = 14) -> datetime | None:
    """When this person is next on duty (now, if on duty)."""
    if on_duty(slots, at):
        return at
    local = at.astimezone(CHINA_TZ)
    best: datetime | None = None
    for day in range(horizon_days):
        d = (local + timedelta(days=day)).date()
        for s in slots:
            if s.weekday != d.weekday():
                continue
            start = datetime.combine(d, s.start, tzinfo=CHINA_TZ)
            if start > local and (best is None or start < best):
                best = start
        if best is not None:
            return best
    return best


def eligible_roles(service_type: str) -> tuple[str, ...]:
    return ROLES_FOR_SERVICE.get(service_type, DEFAULT_ROLES)


def decide(order: OrderView, staff: list[StaffView], now: datetime) -> Decision:
    roles = eligible_roles(order.service_type)
    rule = f"county_centre/{order.service_type}"
    candidates: list[Candidate] = []
    pool: list[tuple[tuple, StaffView, Candidate]] = []
    for s in staff:
        duty_now = on_duty(s.slots, now)
        nd = next_duty(s.slots, now)
        idle_since = s.last_assigned_at or datetime.min.replace(tzinfo=now.tzinfo)
        score = (
            0 if duty_now else 1,
            nd or datetime.max.replace(tzinfo=now.tzinfo),
            s.load / max(s.capacity, 1),
            idle_since,
        )
        c = Candidate(s.id, s.name, _score_json(score), duty_now, nd)
        candidates.append(c)
        if s.county_code != order.county_code or s.tier != "county":
            c.passed_over = "不在本县（区）公共法律服务中心 | not at this county's centre"
        elif s.role not in roles or order.service_type not in s.skills:
            c.passed_over = (
                f"岗位/技能不符（需要 {'/'.join(roles)}） | role or skill does not cover {order.service_type}"
            )
        elif s.load >= s.capacity:
            c.passed_over = f"已满负荷（{s.load}/{s.capacity}） | at capacity"
        elif nd is None:
            c.passed_over = "两周内无值班安排 | no duty in the next 14 days"
        else:
            pool.append((score, s, c))
    if not pool:
        return Decision(
            rule, None, "无可派人员：本县中心无具备该业务技能且有值班安排的人员 | nobody eligible", candidates
        )
    pool.sort(key=lambda p: p[0])
    _, chosen, chosen_c = pool[0]
    for _, _s, c in pool[1:]:
        c.passed_over = _why_not(c, chosen_c)
    when = "当前在岗" if chosen_c.on_duty else f"下次值班 {chosen_c.next_duty:%m-%d %H:%M}"
    reason = (
        f"{chosen.service_point_name} · {chosen.name}：技能匹配，{when}，负荷 {chosen.load}/{chosen.capacity}"
    )
    return Decision(rule, chosen, reason, candidates)


def _why_not(c: Candidate, chosen: Candidate) -> str:
    if chosen.on_duty and not c.on_duty:
        return "当前不在岗 | not on duty now"
    if c.score[2] > chosen.score[2]:
        return "负荷更高 | higher relative load"
    return "空闲时间较短 | assigned more recently"


def _score_json(score: tuple) -> tuple:
    return tuple(v.isoformat() if isinstance(v, datetime) else v for v in score)
