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
from typing import NamedTuple, Protocol

from libs.common.bilingual import Text
from libs.common.calendar import DEFAULT_CALENDAR
from libs.common.case_roles import can_work, cannot_work_reason
from libs.common.clock import CHINA_TZ
from libs.common.urgency import at_least
from services.dispatch import complexity as cx
from services.dispatch import duty as rosters
from services.dispatch.acting import can_act_on_offer, cannot_act_reason
from services.dispatch.conflicts import NAMESAKE_WARNING
from services.dispatch.duty import HORIZON_DAYS, DatedSlot, Slot
from services.dispatch.policy import Policy, Rule, Target

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
    score: tuple[int | float | str, ...]  # Score.as_json() of the last pool that scored them; () if none
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


class Workdays(Protocol):
    """What routing asks of a holiday calendar (libs.common.calendar.WorkCalendar answers it)."""

    def is_workday(self, d: date, /) -> bool: ...


NO_DUTY = "请假或两周内无值班 | on leave or no duty within 14 days"
NOT_ON_DUTY = "当前不在岗 | not on duty now"
_NEVER = datetime.max.replace(tzinfo=CHINA_TZ)  # no duty within the horizon: ranks last
_LONG_AGO = datetime.min.replace(tzinfo=CHINA_TZ)  # never assigned: the longest idle


class Score(NamedTuple):
    """A candidate's rank: compared field by field, smaller first. The field order IS the
    ranking (module docstring, step 3) and the order of each decision row's `score` list."""

    off_duty: int  # 0: on duty now
    next_duty: datetime  # _NEVER when none within the horizon
    lacks_language: int  # 1: does not speak the dialect the requester needs
    load_share: float  # load / capacity, 4 decimals
    minus_level: int  # −(proficiency in the target's skill + in the order's legal domain)
    idle_since: datetime  # last assignment; _LONG_AGO if never

    def as_json(self) -> tuple[int | float | str, ...]:
        return tuple(v.isoformat() if isinstance(v, datetime) else v for v in self)


def decide(
    order: OrderView, staff: list[StaffView], now: datetime, *, policy: Policy, calendar: Workdays
) -> Decision:
    """Route one order among `staff` (module docstring: steps 1–5). `policy` and `calendar`
    are the caller's (dispatch: the policy in force and the network's calendar); nothing
    here reads a file, the environment or a database."""
    book = _Book(_facts(order, now, policy, calendar), staff)
    for way in (_to_previous_handler, _best_on_duty_now, _first_to_come_on_duty):
        if (decision := way(book)) is not None:
            return decision
    return _to_supervisor(book)


def match_rule(order: OrderView, policy: Policy) -> tuple[cx.Complexity, str, Rule]:
    """The order's complexity, its band, and the first policy rule matching its facts."""
    cplx = order_complexity(order)
    band = policy.band(cplx.score)
    facts = {
        "service_type": order.service_type,
        "domain": order.domain,
        "complexity": band,
        "special_groups": order.special_groups,
        "urgency": order.urgency,
        "channel": order.channel,
    }
    return cplx, band, policy.match(facts)


@dataclass(frozen=True)
class _Facts:
    """What one decision knows before it looks at anybody."""

    order: OrderView
    now: datetime
    local_now: datetime  # `now` in China time, converted once per decision, not per person
    policy: Policy
    is_workday: Callable[[date], bool]
    complexity: cx.Complexity
    band: str
    weight: int  # load units the order books (policy.load_weight of its band)
    rule: Rule
    targets: tuple[Target, ...]


def _facts(order: OrderView, now: datetime, policy: Policy, calendar: Workdays) -> _Facts:
    cplx, band, rule = match_rule(order, policy)
    return _Facts(
        order=order,
        now=now,
        local_now=now.astimezone(CHINA_TZ),
        policy=policy,
        is_workday=_memoised(calendar.is_workday),
        complexity=cplx,
        band=band,
        weight=policy.load_weight.get(band, 1),
        rule=rule,
        targets=policy.targets(rule, order.urgency),
    )


def _memoised(is_workday: Callable[[date], bool]) -> Callable[[date], bool]:
    # A decision asks about the same ~15 dates for every person it looks at.
    memo: dict[date, bool] = {}

    def ask(d: date) -> bool:
        if d not in memo:
            memo[d] = is_workday(d)
        return memo[d]

    return ask


def _blocker(s: StaffView, order: OrderView, target: Target | None, strict: bool, weight: int) -> str | None:
    """What rules this person out, duty aside (None: nothing). `target` None: the follow-up
    path, which asks for no particular role or skill."""
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
    if not can_work(order.service_type, s.role):  # the on-call tier's lawyer and a mediation order
        return str(cannot_work_reason(order.service_type, s.role))
    if s.load + weight > s.capacity:
        return f"负荷已满（{s.load}+{weight} > {s.capacity}） | no capacity for weight {weight}"
    return None


def _score(s: StaffView, order: OrderView, skill: str, on: bool, nd: datetime | None) -> Score:
    lvl = s.levels.get(skill, 1) + (s.levels.get(order.domain, 0) if order.domain else 0)
    speaks = not order.language or order.language in s.languages
    # Positional: keywords cost a NamedTuple twice the time, and this runs per eligible person.
    return Score(
        0 if on else 1,
        nd or _NEVER,
        0 if speaks else 1,
        round(s.load / max(s.capacity, 1), 4),
        -lvl,
        s.last_assigned_at or _LONG_AGO,
    )


def _why_not(score: Score, best: Score) -> str:
    if best.off_duty == 0 and score.off_duty == 1:
        return NOT_ON_DUTY
    if best.off_duty == 1 and score.next_duty > best.next_duty:
        return "下次值班更晚 | next duty later"
    if score.lacks_language > best.lacks_language:
        return "不会说申请人需要的语言/方言 | does not speak the requester's language"
    if score.load_share > best.load_share:
        return "加权负荷更高 | higher weighted load"
    if score.minus_level > best.minus_level:
        return "熟练度较低 | lower proficiency"
    return "空闲时间较短 | assigned more recently"


Ranked = list[tuple[Score, StaffView]]  # a pool, in the staff order given (ties keep it)


class _Book:
    """One decision's candidate rows and what it has worked out so far.

    A class holding memos rather than pure functions alone, for speed without changing a
    single answer: a roster is worked out lazily, only for people some target looks at
    (0.65 ms a decision over a county's ~100 staff instead of 5 ms), and a candidate row
    shows on_duty/next_duty only for them; who is in scope is kept per (tier, neighbouring
    or not), the only distinction _in_scope draws between steps, and what rules each one
    out per (target, step), since at night step 5 replays every pool of steps 2–4.
    """

    def __init__(self, facts: _Facts, staff: list[StaffView]) -> None:
        self.facts = facts
        self.staff = staff
        self.generic = f"不在规则 {facts.rule.id} 的目标服务点/岗位 | not at a target point or role of rule {facts.rule.id}"
        self.rows: dict[str, Candidate] = {}
        for s in staff:
            note = NAMESAKE_WARNING if s.id in facts.order.namesake_staff else None
            self.rows[s.id] = Candidate(
                s.id, s.name, (), False, None, self.generic, s.service_point_name, warning=note
            )
        # Scores stay raw while pools are ranked (several pools may score one person; the
        # last stands) and are made JSON-ready once, for the rows the decision keeps.
        self.scores: dict[str, Score] = {}
        self._duty: dict[str, tuple[bool, datetime | None]] = {}
        self._by_tier: dict[str, list[StaffView]] = {}
        for s in staff:  # _in_scope never takes a person of another tier
            self._by_tier.setdefault(s.tier, []).append(s)
        self._scopes: dict[tuple[str, bool], list[StaffView]] = {}
        self._verdicts: dict[tuple[int, str], list[tuple[StaffView, str | None]]] = {}

    def duty(self, s: StaffView) -> tuple[bool, datetime | None]:
        """(on duty now, next duty) — worked out on first asking, and shown on the row."""
        known = self._duty.get(s.id)
        if known is None:
            f = self.facts
            nd = rosters.next_duty(s, f.now, f.local_now, f.is_workday)
            known = self._duty[s.id] = (nd == f.now, nd)
            row = self.rows[s.id]
            row.on_duty, row.next_duty = known
        return known

    def blocker(self, s: StaffView, target: Target | None, strict: bool) -> str | None:
        why = _blocker(s, self.facts.order, target, strict, self.facts.weight)
        return NO_DUTY if why is None and self.duty(s)[1] is None else why

    def score(self, s: StaffView, skill: str) -> Score:
        on, nd = self.duty(s)
        sc = self.scores[s.id] = _score(s, self.facts.order, skill, on, nd)
        return sc

    def pool(self, ti: int, target: Target, step: str, tier: str, *, now_only: bool) -> Ranked:
        """Who target `ti` may take at this relaxation step (now_only: only people on duty
        now), scored; everyone else it looked at gets the first reason that ruled them out."""
        out: Ranked = []
        rows, generic, duty, score = self.rows, self.generic, self.duty, self.score  # hot loop
        for s, why in self._blockers(ti, target, step, tier):
            row = rows[s.id]
            if why is None and now_only and not duty(s)[0]:
                why = NOT_ON_DUTY
            if why is None:
                out.append((score(s, target.skill), s))
                row.target, row.step = ti, step
            elif row.passed_over == generic:
                row.passed_over, row.target, row.step = why, ti, step
        return out

    def _blockers(self, ti: int, target: Target, step: str, tier: str) -> list[tuple[StaffView, str | None]]:
        if (ti, step) not in self._verdicts:
            strict, order, weight, duty = step == "strict", self.facts.order, self.facts.weight, self.duty
            verdicts = []
            for s in self._in_scope(tier, step):  # self.blocker, inlined: ~800 calls a night decision
                why = _blocker(s, order, target, strict, weight)
                verdicts.append((s, NO_DUTY if why is None and duty(s)[1] is None else why))
            self._verdicts[ti, step] = verdicts
        return self._verdicts[ti, step]

    def _in_scope(self, tier: str, step: str) -> list[StaffView]:
        key = (tier, step == "neighbouring_township")
        if key not in self._scopes:
            order = self.facts.order
            self._scopes[key] = [s for s in self._by_tier.get(tier, ()) if _in_scope(s, order, tier, step)]
        return self._scopes[key]

    def candidate_rows(self) -> list[Candidate]:
        for sid, sc in self.scores.items():
            self.rows[sid].score = sc.as_json()
        return list(self.rows.values())


# ---- the steps of a decision (module docstring), each a Decision or None: not this way ----


def _to_previous_handler(book: _Book) -> Decision | None:
    """1. A follow-up goes back to whoever handled the first order."""
    prev_id = book.facts.order.previous_handler_id
    if not prev_id:
        return None
    prev = next((s for s in book.staff if s.id == prev_id), None)
    if prev is None or book.blocker(prev, None, False) is not None:
        return None
    book.score(prev, book.facts.order.service_type)
    why = "回访/追问交回原承办人 | follow-up to previous handler"
    return _offer_to(book, prev, "follow-up/previous-handler", why, None, None)


def _best_on_duty_now(book: _Book) -> Decision | None:
    """2–4. Targets in order, each with stepwise relaxation, among staff on duty now.
    Locality first, but not at any price: when the best local person already has work
    queued and a later target has someone on duty and idle, the idle one takes it (a
    one-person township pool otherwise makes citizens wait while the centre sits idle)."""
    busy: tuple[Ranked, int, Target, str] | None = None
    for ti, target in enumerate(book.facts.targets):
        for step, tier in _steps(book.facts.policy, target):
            pool = book.pool(ti, target, step, tier, now_only=True)
            if not pool:
                continue
            pool.sort(key=_by_score)
            if pool[0][1].load == 0:
                return _choose(book, pool, ti, target, step)
            if busy is None:
                busy = (pool, ti, target, step)
    return _choose(book, *busy) if busy is not None else None


def _first_to_come_on_duty(book: _Book) -> Decision | None:
    """5. Nobody on duty anywhere (night, weekend): whoever comes on duty FIRST across every
    target and step — not the first target that has anyone this fortnight, or a night-time
    consultation would wait days for a village adviser's weekly shift while the county
    centre opens next morning (bench/sim measured exactly that). Ties keep target order."""
    # (score, target index, step index, person, target, step): plain tuples (a NamedTuple
    # per person cost ~2% of a night decision, measured).
    later: list[tuple[Score, int, int, StaffView, Target, str]] = []
    seen: set[str] = set()
    for ti, target in enumerate(book.facts.targets):
        for si, (step, tier) in enumerate(_steps(book.facts.policy, target)):
            for sc, s in book.pool(ti, target, step, tier, now_only=False):
                if s.id not in seen:
                    seen.add(s.id)
                    later.append((sc, ti, si, s, target, step))
    if not later:
        return None
    later.sort(key=lambda x: (x[0].next_duty, x[1], x[2], x[0]))  # earliest duty, then target, step, rank
    best, ti, _, chosen, target, step = later[0]
    for sc, _ti, _si, other, _target, _step in later[1:]:
        book.rows[other.id].passed_over = _why_not(sc, best)
    row = book.rows[chosen.id]
    row.target, row.step = ti, step
    return _matched(book, chosen, ti, target, step)


def _to_supervisor(book: _Book) -> Decision:
    """Nobody at all: the supervisor queue."""
    f = book.facts
    reason = (
        f"无可派人员：规则 {f.rule.id} 的各目标及放宽后均无合格人员 | nobody eligible, to supervisor queue"
    )
    return Decision(
        f.rule.id, None, reason, book.candidate_rows(),
        policy_version=f.policy.version, complexity=f.complexity, band=f.band, weight=f.weight,
        offer_timeout_minutes=0,
    )  # fmt: skip


def _by_score(p: tuple[Score, StaffView]) -> Score:
    return p[0]


def _choose(book: _Book, pool: Ranked, ti: int, target: Target, step: str) -> Decision:
    pool.sort(key=_by_score)
    best, chosen = pool[0]
    for sc, other in pool[1:]:
        book.rows[other.id].passed_over = _why_not(sc, best)
    return _matched(book, chosen, ti, target, step)


def _matched(book: _Book, chosen: StaffView, ti: int, target: Target, step: str) -> Decision:
    label = f"{book.facts.rule.id}#{ti + 1}:{target.tier}/{target.window}"
    label += "" if step == "strict" else f"~{step}"
    why = STEP_REASON.get(step, f"放宽条件后匹配 | matched after relaxing ({step})")
    return _offer_to(book, chosen, label, why, target, step)


def _offer_to(
    book: _Book, chosen: StaffView, rule_id: str, why: str, target: Target | None, step: str | None
) -> Decision:
    f = book.facts
    book.rows[chosen.id].passed_over = None
    on, nd = book.duty(chosen)
    return Decision(
        rule_id, chosen, _reason(f, chosen, why, on, nd), book.candidate_rows(),
        policy_version=f.policy.version, complexity=f.complexity, band=f.band, weight=f.weight,
        target=target, step=step,
        offer_timeout_minutes=f.policy.offer_timeout(f.order.urgency, target.timeout_minutes if target else None),
        available_at=nd,
    )  # fmt: skip


def _reason(f: _Facts, chosen: StaffView, why: str, on: bool, nd: datetime | None) -> str:
    # One sentence in each language, joined as every reason here is (bilingual.Text): the
    # console shows the reader's side (seen: 「技能与熟练度匹配 | matched at step strict」 mid-sentence).
    why_zh, why_en = Text.parse(why)
    when_zh = "当前在岗" if on else f"下次值班 {nd:%m-%d %H:%M}" if nd else "近期无值班"
    when_en = "on duty now" if on else f"next on duty {nd:%m-%d %H:%M}" if nd else "no duty soon"
    load = f"{chosen.load}+{f.weight}/{chosen.capacity}"
    zh = (
        f"{chosen.service_point_name} · {chosen.name}：{why_zh}，{when_zh}，"
        f"负荷 {load}（复杂度 {f.complexity.score}·{BAND_ZH.get(f.band, f.band)}）"
    )
    en = (
        f"{chosen.name} at {chosen.service_point_name}: {why_en or why_zh}, {when_en}, "
        f"load {load} (complexity {f.complexity.score}, {f.band})"
    )
    if chosen.id in f.order.namesake_staff:  # shown with the offer: the person checks it
        warn_zh, warn_en = Text.parse(NAMESAKE_WARNING)
        zh, en = f"{zh}。{warn_zh}", f"{en}. {warn_en}"
    return str(Text(zh, en))
