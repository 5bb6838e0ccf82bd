"""Routing rules — pure, no I/O, unit-tested.

The seeds' rule: what cannot be served directly is judged by its nature, complexity
and the resources available now, and dispatched to the right window and person.

1. A follow-up goes back to the previous handler if that person can still take it.
2. Otherwise the first policy rule matching (service type, domain, complexity band,
   special groups, urgency, channel) gives ordered targets (tier, window, roles, skill).
3. For each target: eligible = able to act on the offer at all (acting.py: a role that
   may accept it), right role and skill at the needed proficiency, not on leave, capacity
   left for this order's weight, no conflict of interest (conflicts.py: by identity; a
   name alone only warns), not already offered this order, some duty within 14 days. Ranked by: on duty now (else the
   earliest next duty), speaks the requester's dialect, least weighted load, higher
   proficiency (service type + legal domain), longest idle.
4. Nobody eligible → relax step by step: lower proficiency → neighbouring township →
   parent tier; then the next target. Orders at least `urgent` end with the city
   centre's 7×24 on-call tier (policy.yaml `on_call`). Nobody at all → supervisor queue.
Every staff member passed in gets a candidate row saying why they were passed over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from libs.common.calendar import DEFAULT_CALENDAR
from libs.common.clock import CHINA_TZ
from libs.common.urgency import at_least
from services.dispatch import complexity as cx
from services.dispatch import duty as rosters
from services.dispatch.acting import can_act_on_offer, cannot_act_reason
from services.dispatch.conflicts import NAMESAKE_WARNING
from services.dispatch.duty import HORIZON_DAYS, DatedSlot, Slot
from services.dispatch.policy import Policy, Target, default_policy

__all__ = ["HORIZON_DAYS", "DatedSlot", "Slot"]  # the duty types, where callers always found them

PARENT_TIER = {"village": "township", "township": "county", "county": "city", "city": "city"}
CONFLICT = "利益冲突：曾代理本事项另一方当事人 | conflict of interest: acted for another party"


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
    levels: dict[str, int] = field(default_factory=dict)  # skill or legal domain → proficiency 1–5
    region_code: str = ""  # of the home service point
    parent_point_id: str | None = None
    languages: tuple[str, ...] = ()
    exceptions: list[DatedSlot] = field(default_factory=list)
    leave: list[tuple[date, date]] = field(default_factory=list)  # inclusive local dates
    signed_in: bool | None = None  # None: no sign-in today, the roster decides
    active: bool = True


@dataclass
class OrderView:
    id: str
    service_type: str
    county_code: str
    region_code: str = ""
    domain: str | None = None
    special_groups: tuple[str, ...] = ()
    urgency: str = "normal"
    channel: str = "web"
    description: str = ""
    prior_orders: int = 0
    complexity: int | None = None  # precomputed score; None = score it here
    previous_handler_id: str | None = None  # follow-ups go back to this person
    exclude_staff: frozenset[str] = frozenset()  # already offered / rejected / returned
    conflicted_staff: frozenset[str] = frozenset()  # acted for another party of the matter
    conflict_reasons: dict[str, str] = field(default_factory=dict)  # why, per conflicted person
    # Acted where a party of this matter had only the same name on the other side: a warning.
    namesake_staff: frozenset[str] = frozenset()
    # Being given another order at this moment (their row is locked by a routing in progress,
    # or that routing just took their last capacity): the next best is asked instead.
    busy_staff: frozenset[str] = frozenset()
    language: str | None = None  # a dialect the requester needs (e.g. 长治话): speakers first


@dataclass
class Candidate:
    staff_id: str
    name: str
    score: tuple
    on_duty: bool
    next_duty: datetime | None
    passed_over: str | None = None
    service_point: str = ""
    target: int | None = None
    step: str | None = None
    warning: str | None = None


@dataclass
class Decision:
    rule: str
    chosen: StaffView | None
    reason: str
    candidates: list[Candidate]
    policy_version: str = ""
    complexity: cx.Complexity | None = None
    band: str = ""
    weight: int = 1
    target: Target | None = None
    step: str | None = None
    offer_timeout_minutes: int = 30
    available_at: datetime | None = None  # when the chosen person is on duty (the offer clock starts then)


# ---- duty (the rules are in duty.py) ----------------------------------------------


def windows_on(s: StaffView, day: date, is_workday: Callable[[date], bool]) -> list[tuple[time, time]]:
    """Duty windows of one local date: weekly pattern on working days, on-call rota every
    day, minus days off, plus extras."""
    return list(rosters.windows(s, day, is_workday, rosters.Week(s.slots)))


def on_duty(
    s: StaffView | list[Slot], at: datetime, is_workday: Callable[[date], bool] | None = None
) -> bool:
    if isinstance(s, list):  # bare weekly pattern (kept for callers of the first version)
        local = at.astimezone(CHINA_TZ)
        return any(w.weekday == local.weekday() and w.start <= local.time() < w.end for w in s)
    local = at.astimezone(CHINA_TZ)
    if rosters.on_leave(s, local.date()) or not s.active:
        return False
    if s.signed_in is not None:  # 签到/签退 beats the roster for today
        return s.signed_in
    return any(a <= local.time() < b for a, b in windows_on(s, local.date(), is_workday or _workday))


def next_duty(
    s: StaffView | list[Slot], at: datetime, is_workday: Callable[[date], bool] | None = None
) -> datetime | None:
    """When this person is next on duty (now, if on duty), within the horizon."""
    if isinstance(s, list):
        s = StaffView("", "", "", frozenset(), "", "", "", None, 1, 0, slots=s)
    return rosters.next_duty(s, at, at.astimezone(CHINA_TZ), is_workday or _workday)


def _workday(d: date) -> bool:
    return DEFAULT_CALENDAR.is_workday(d)


# ---- decision ----------------------------------------------------------------------


def order_complexity(order: OrderView) -> cx.Complexity:
    if order.complexity is not None:
        return cx.Complexity(order.complexity, ["预先计算 | precomputed"])
    return cx.score(
        service_type=order.service_type,
        domain=order.domain,
        special_groups=order.special_groups,
        description=order.description,
        prior_orders=order.prior_orders,
    )


def priority_key(special_groups: tuple[str, ...] | list[str], urgency: str, due: datetime | None) -> tuple:
    """四优先: special groups and urgent (or critical) orders first, then the earliest deadline."""
    first = 0 if (special_groups or at_least(urgency, "urgent")) else 1
    return (first, due or datetime.max.replace(tzinfo=CHINA_TZ))


def _in_scope(s: StaffView, order: OrderView, tier: str, step: str) -> bool:
    """Is this person's service point where the target (after relaxation) looks?"""
    if tier == "city":
        return s.tier == "city"
    if s.tier != tier or s.county_code != order.county_code:
        return False
    if tier == "county":
        return True
    near = s.region_code.startswith(order.region_code) or order.region_code.startswith(s.region_code)
    if tier == "village" and len(order.region_code) < 9:
        near = False  # a county-level address names no village: no village room is "the local one"
    if step == "neighbouring_township":
        # Points of the same tier elsewhere in the county (siblings under the county centre).
        return not near
    return near


# What each relaxation step means, to the person reading the decision (policy.RELAXATIONS).
STEP_REASON = {
    "strict": "岗位、技能与熟练度均符合 | role, skill and proficiency all match",
    "lower_proficiency": "放宽熟练度要求后匹配 | matched with a lower proficiency allowed",
    "neighbouring_township": "本地无人，扩至本县其他乡镇后匹配 | nobody locally: matched at another township of the county",
    "parent_tier": "本级无人，上移一级服务点后匹配 | nobody at this tier: matched one tier up",
}
BAND_ZH = {"simple": "简单", "medium": "中等", "complex": "复杂"}  # policy.yaml complexity_bands


def _steps(policy: Policy, target: Target) -> list[tuple[str, str]]:
    """(step name, tier to look at) in relaxation order."""
    out = [("strict", target.tier)]
    for step in policy.relaxation:
        if step == "lower_proficiency":
            out.append((step, target.tier))
        elif step == "neighbouring_township" and target.tier in ("village", "township"):
            out.append((step, target.tier))
        elif step == "parent_tier" and target.tier != "city":
            out.append((step, PARENT_TIER[target.tier]))
    return out


def decide(order: OrderView, staff: list[StaffView], now: datetime, **options: Any) -> Decision:
    """Options: policy (Policy), is_workday (date → bool), calendar (WorkCalendar)."""
    policy: Policy = options.get("policy") or default_policy()
    cal = options.get("calendar")
    raw_workday = options.get("is_workday") or (cal.is_workday if cal else _workday)
    memo: dict[date, bool] = {}

    def is_workday(d: date) -> bool:
        if d not in memo:
            memo[d] = raw_workday(d)
        return memo[d]

    cplx = order_complexity(order)
    band = policy.band(cplx.score)
    weight = policy.load_weight.get(band, 1)
    facts = {
        "service_type": order.service_type,
        "domain": order.domain,
        "complexity": band,
        "special_groups": order.special_groups,
        "urgency": order.urgency,
        "channel": order.channel,
    }
    rule = policy.match(facts)
    base = dict(policy_version=policy.version, complexity=cplx, band=band, weight=weight)
    max_dt = datetime.max.replace(tzinfo=CHINA_TZ)
    min_dt = datetime.min.replace(tzinfo=CHINA_TZ)
    local_now = now.astimezone(CHINA_TZ)  # once per decision, not once per person

    duty: dict[str, tuple[bool, datetime | None]] = {}
    cands: dict[str, Candidate] = {}
    generic = f"不在规则 {rule.id} 的目标服务点/岗位 | not at a target point or role of rule {rule.id}"
    for s in staff:
        note = NAMESAKE_WARNING if s.id in order.namesake_staff else None
        cands[s.id] = Candidate(s.id, s.name, (), False, None, generic, s.service_point_name, warning=note)

    def duty_of(s: StaffView) -> tuple[bool, datetime | None]:
        # Lazily: the roster is only worked out for people some target actually looks at.
        if s.id not in duty:
            nd = rosters.next_duty(s, now, local_now, is_workday)
            duty[s.id] = (nd == now, nd)
            cands[s.id].on_duty, cands[s.id].next_duty = nd == now, nd
        return duty[s.id]

    def blocker(s: StaffView, target: Target | None, strict: bool) -> str | None:
        if not s.active:
            return "已停用 | inactive"
        if not can_act_on_offer(s.role):  # 12348 seats: an offer they cannot accept only times out
            return cannot_act_reason(s.role)
        if s.id in order.conflicted_staff:
            return order.conflict_reasons.get(s.id) or CONFLICT
        if s.id in order.busy_staff:
            return "正在被分派其他工单，改派下一位 | being assigned another order right now"
        if s.id in order.exclude_staff:
            return "本单已派过此人（拒单/超时/退单） | already offered this order"
        if target is not None:
            if s.role not in target.roles or target.skill not in s.skills:
                return f"岗位/技能不符（需要 {'/'.join(target.roles)} · {target.skill}） | role or skill mismatch"
            need = target.min_level if strict else 1
            if s.levels.get(target.skill, 1) < need:
                return f"业务熟练度 {s.levels.get(target.skill, 1)} < {need} | proficiency too low"
            if strict and target.domain_level and order.domain:
                lvl = s.levels.get(order.domain, 0)
                if lvl < target.domain_level:
                    return f"{order.domain} 领域熟练度 {lvl} < {target.domain_level} | domain proficiency too low"
        if s.load + weight > s.capacity:
            return f"负荷已满（{s.load}+{weight} > {s.capacity}） | no capacity for weight {weight}"
        if duty_of(s)[1] is None:
            return "请假或两周内无值班 | on leave or no duty within 14 days"
        return None

    def score(s: StaffView, skill: str) -> tuple:
        on, nd = duty_of(s)
        idle = s.last_assigned_at or min_dt
        lvl = s.levels.get(skill, 1) + (s.levels.get(order.domain, 0) if order.domain else 0)
        speaks = 0 if not order.language or order.language in s.languages else 1
        return (0 if on else 1, nd or max_dt, speaks, round(s.load / max(s.capacity, 1), 4), -lvl, idle)

    def candidate_rows() -> list[Candidate]:
        # Scores stay raw tuples while pools are ranked (several pools may score one person;
        # the last stands) and are made JSON-ready once, for the rows the decision keeps.
        rows = list(cands.values())
        for c in rows:
            if c.score:
                c.score = _json(c.score)
        return rows

    def finish(
        chosen: StaffView, rule_id: str, why: str, target: Target | None, step: str | None
    ) -> Decision:
        cands[chosen.id].passed_over = None
        on, nd = duty_of(chosen)
        # One sentence in each language, joined as every reason here is ("中文 | English"): the
        # console shows the reader's side (seen: 「技能与熟练度匹配 | matched at step strict」 mid-sentence).
        why_zh, _, why_en = why.partition(" | ")
        when_zh = "当前在岗" if on else f"下次值班 {nd:%m-%d %H:%M}" if nd else "近期无值班"
        when_en = "on duty now" if on else f"next on duty {nd:%m-%d %H:%M}" if nd else "no duty soon"
        zh = (
            f"{chosen.service_point_name} · {chosen.name}：{why_zh}，{when_zh}，"
            f"负荷 {chosen.load}+{weight}/{chosen.capacity}（复杂度 {cplx.score}·{BAND_ZH.get(band, band)}）"
        )
        en = (
            f"{chosen.name} at {chosen.service_point_name}: {why_en or why_zh}, {when_en}, "
            f"load {chosen.load}+{weight}/{chosen.capacity} (complexity {cplx.score}, {band})"
        )
        if chosen.id in order.namesake_staff:  # shown with the offer: the person checks it
            warn_zh, _, warn_en = NAMESAKE_WARNING.partition(" | ")
            zh, en = f"{zh}。{warn_zh}", f"{en}. {warn_en}"
        reason = f"{zh} | {en}"
        timeout = policy.offer_timeout(order.urgency, target.timeout_minutes if target else None)
        return Decision(
            rule_id, chosen, reason, candidate_rows(), **base,
            target=target, step=step, offer_timeout_minutes=timeout, available_at=nd,
        )  # fmt: skip

    # Targets and relaxation steps look at the same tiers again and again, and at night step 5
    # repeats every (target, step) of 2–4: who is in scope, and what rules each one out, is
    # worked out once per decision. _in_scope never takes a person of another tier, so people
    # are grouped by tier first (keeping the order given: ties in the ranking keep it).
    by_tier: dict[str, list[StaffView]] = {}
    for s in staff:
        by_tier.setdefault(s.tier, []).append(s)
    scopes: dict[tuple[str, bool], list[StaffView]] = {}
    verdicts: dict[tuple[int, str], list[tuple[StaffView, str | None]]] = {}

    def in_scope(tier: str, step: str) -> list[StaffView]:
        key = (tier, step == "neighbouring_township")  # the only step _in_scope tells apart
        if key not in scopes:
            scopes[key] = [s for s in by_tier.get(tier, ()) if _in_scope(s, order, tier, step)]
        return scopes[key]

    def blockers(ti: int, target: Target, step: str, tier: str) -> list[tuple[StaffView, str | None]]:
        """Everyone this target and step looks at, with what rules them out (None: nothing)."""
        if (ti, step) not in verdicts:
            strict = step == "strict"
            verdicts[ti, step] = [(s, blocker(s, target, strict)) for s in in_scope(tier, step)]
        return verdicts[ti, step]

    def _pool(
        ti: int, target: Target, step: str, tier: str, *, now_only: bool
    ) -> list[tuple[tuple, StaffView]]:
        pool = []
        for s, why in blockers(ti, target, step, tier):
            c = cands[s.id]
            if why is None and now_only and not duty_of(s)[0]:
                why = "当前不在岗 | not on duty now"
            if why is None:
                sc = score(s, target.skill)
                c.score = sc
                pool.append((sc, s))
                c.target, c.step = ti, step
            elif c.passed_over == generic:
                c.passed_over, c.target, c.step = why, ti, step
        return pool

    def _label_and_finish(chosen: StaffView, ti: int, target: Target, step: str) -> Decision:
        label = f"{rule.id}#{ti + 1}:{target.tier}/{target.window}"
        label += "" if step == "strict" else f"~{step}"
        return finish(
            chosen,
            label,
            STEP_REASON.get(step, f"放宽条件后匹配 | matched after relaxing ({step})"),
            target,
            step,
        )

    def _choose(pool: list[tuple[tuple, StaffView]], ti: int, target: Target, step: str) -> Decision:
        pool.sort(key=lambda p: p[0])
        best_score, chosen = pool[0]
        for sc, other in pool[1:]:
            cands[other.id].passed_over = _why_not(sc, best_score)
        return _label_and_finish(chosen, ti, target, step)

    # 1. A follow-up goes back to whoever handled the first order.
    if order.previous_handler_id:
        prev = next((s for s in staff if s.id == order.previous_handler_id), None)
        if prev is not None and blocker(prev, None, False) is None:
            cands[prev.id].score = score(prev, order.service_type)
            return finish(
                prev,
                "follow-up/previous-handler",
                "回访/追问交回原承办人 | follow-up to previous handler",
                None,
                None,
            )

    # 2–4. Targets in order, each with stepwise relaxation, among staff on duty now.
    # Locality first, but not at any price: when the best local person already has work
    # queued and a later target has someone on duty and idle, the idle one takes it (a
    # one-person township pool otherwise makes citizens wait while the centre sits idle).
    busy: tuple | None = None
    targets = policy.targets(rule, order.urgency)
    for ti, target in enumerate(targets):
        for step, tier in _steps(policy, target):
            pool = _pool(ti, target, step, tier, now_only=True)
            if not pool:
                continue
            pool.sort(key=lambda p: p[0])
            if pool[0][1].load == 0:
                return _choose(pool, ti, target, step)
            if busy is None:
                busy = (pool, ti, target, step)
    if busy is not None:
        return _choose(*busy)

    # 5. Nobody on duty anywhere (night, weekend): whoever comes on duty FIRST across every
    # target and step — not the first target that has anyone this fortnight, or a night-time
    # consultation would wait days for a village adviser's weekly shift while the county
    # centre opens next morning (bench/sim measured exactly that). Ties keep target order.
    later: list[tuple[tuple, int, int, StaffView, Target, str]] = []
    seen: set[str] = set()
    for ti, target in enumerate(targets):
        for si, (step, tier) in enumerate(_steps(policy, target)):
            for sc, st in _pool(ti, target, step, tier, now_only=False):
                if st.id not in seen:
                    seen.add(st.id)
                    later.append((sc, ti, si, st, target, step))
    if later:
        later.sort(key=lambda x: (x[0][1], x[1], x[2], x[0]))
        sc0, ti, _, chosen, target, step = later[0]
        for sc, _ti, _si, other, _t, _s in later[1:]:
            cands[other.id].passed_over = _why_not(sc, sc0)
        cands[chosen.id].target, cands[chosen.id].step = ti, step
        return _label_and_finish(chosen, ti, target, step)

    reason = f"无可派人员：规则 {rule.id} 的各目标及放宽后均无合格人员 | nobody eligible, to supervisor queue"
    return Decision(rule.id, None, reason, candidate_rows(), **base, offer_timeout_minutes=0)


def _why_not(score: tuple, best: tuple) -> str:
    if best[0] == 0 and score[0] == 1:
        return "当前不在岗 | not on duty now"
    if best[0] == 1 and score[1] > best[1]:
        return "下次值班更晚 | next duty later"
    if score[2] > best[2]:
        return "不会说申请人需要的语言/方言 | does not speak the requester's language"
    if score[3] > best[3]:
        return "加权负荷更高 | higher weighted load"
    if score[4] > best[4]:
        return "熟练度较低 | lower proficiency"
    return "空闲时间较短 | assigned more recently"


def _json(score: tuple) -> tuple:
    return tuple(v.isoformat() if isinstance(v, datetime) else v for v in score)
