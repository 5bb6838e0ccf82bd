"""The scripted month: which orders 长治's citizens file, on which day and hour, by which
channel, and what becomes of each — pure, no I/O, the same for the same seed and start date.

The driver (driver.py) plays it through the services' APIs. Every order's description starts
with DEMO_MARK, the one flag of demo history that every screen shows (lists, case pages, the
citizen's tracking page) without a column or an API field of its own.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from libs.common import regions
from libs.common.demo_network import GIVEN, SURNAMES

DEMO_MARK = "【演示】"
SEED = 12348
# Weekday hours at which the front desks file orders (China time): county centres are on duty
# 08:30–17:30 with a lunch break; weekends only the hotline and the web, at two hours.
WEEKDAY_HOURS = (9, 10, 14, 16)
WEEKEND_HOURS = (10, 15)
# Consultations reported in 2023 (data/changzhi.json); the two districts that reported none get
# an estimate (潞州区 is the city proper, the busiest).
COUNTY_WEIGHTS = {
    "140403": 7000,
    "140404": 4613,
    "140405": 3300,
    "140406": 2502,
    "140423": 2400,
    "140425": 2218,
    "140426": 2803,
    "140427": 3855,
    "140428": 4555,
    "140429": 4050,
    "140430": 3000,
    "140431": 4181,
}
CHANNELS = {"hotline": 40, "web": 20, "counter": 28, "external": 12}
EXTERNAL_SOURCES = {"12345": 60, "court": 15, "police": 10, "petition": 10, "government": 5}
PORTALS = ("portal", "wechat", "12348_cn", "app")
TYPE_WEIGHTS = {
    "consultation": 40,
    "legal_aid": 16,
    "mediation": 20,
    "notarization": 5,
    "lawyer_referral": 4,
    "complaint": 3,
    "judicial_appraisal": 4,
    "administrative_reconsideration": 3,
    "community_correction": 3,
    "resettlement": 2,
}
# What the person an order is offered to does: take it, turn it down (the next one takes it),
# or let it lie until it is escalated (督办) — then a supervisor hands some of those to a person.
RESPONSES = {"accept": 80, "reject": 9, "ignore": 6, "ignore_then_assign": 5}
REJECT_REASONS = {
    "overload": "手头案件较多，请改派他人",
    "out_of_scope": "不属于本人受理范围",
    "conflict": "与对方当事人相识，申请回避",
}


@dataclass(frozen=True)
class Step:
    day: int  # days from the start (0 = the first day of the month)
    hour: int  # China hour of the tick it runs in
    action: str


@dataclass(frozen=True)
class DemoOrder:
    key: str
    day: int
    hour: int
    minute: int  # within the hour: filed at hour:minute China time
    channel: str
    county: str
    region_code: str
    service_type: str
    domain: str | None
    description: str
    name: str
    phone: str
    special_groups: tuple[str, ...] = ()
    urgency: str | None = None
    source: str | None = None  # external system
    portal: str | None = None  # web
    answered_on_call: bool = False
    repeat_of: str | None = None  # the same caller again about an open order (并单 by intake)
    response: str = "accept"
    outcome: str = ""  # aid: grant | refuse; mediation: oral | failed | open
    rating: int | None = None
    rating_via: str = "operator"  # operator (at the callback) | web (the citizen)
    steps: tuple[Step, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Plan:
    start: date
    days: int  # history days before today; `today` orders are filed at the moment of loading
    orders: tuple[DemoOrder, ...]
    today: tuple[DemoOrder, ...]

    def day_date(self, day: int) -> date:
        return self.start + timedelta(days=day)


def requests() -> list[dict]:
    path = Path(__file__).with_name("requests.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class _Gen:
    def __init__(self, seed: int, start: date, days: int) -> None:
        self.rng = random.Random(seed)
        self.start, self.days = start, days
        self.texts: dict[str, list[dict]] = {}
        for r in requests():
            service = {"admin_reconsideration": "administrative_reconsideration"}.get(
                r["service"], r["service"]
            )
            self.texts.setdefault(service, []).append(r)
        self.phones: set[str] = set()
        self.n = 0

    def weekday(self, day: int) -> int:
        return (self.start + timedelta(days=day)).weekday()

    def next_working(self, day: int, hour: int) -> tuple[int, int]:
        while self.weekday(day) >= 5:
            day += 1
        return day, hour

    def step(self, day: int, action: str, hour: int | None = None) -> Step:
        d, h = self.next_working(day, hour if hour is not None else self.rng.choice(WEEKDAY_HOURS))
        return Step(d, h, action)

    def closing(self, day: int) -> list[Step]:
        """The callback, then the closing, in the same hour."""
        first = self.step(day, "callback")
        return [first, Step(first.day, first.hour, "close")]

    def person(self) -> tuple[str, str]:
        rng = self.rng
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        while True:
            phone = f"1{rng.choice('35789')}{rng.randrange(10)}{rng.randrange(10**8):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return name, phone

    def region(self, county: str) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.2:
            return county
        town = rng.choice(regions.children(county))
        villages = regions.children(town.code)
        return rng.choice(villages).code if roll > 0.75 and villages else town.code

    def order(self, day: int, hour: int, *, weekend: bool, today: bool = False) -> DemoOrder:
        rng = self.rng
        self.n += 1
        county = _pick(rng, {c: w for c, w in COUNTY_WEIGHTS.items()})
        channel = _pick(rng, {"hotline": 70, "web": 30} if weekend else CHANNELS)
        service = _pick(rng, TYPE_WEIGHTS)
        text = rng.choice(self.texts[service])
        name, phone = self.person()
        groups = tuple(text.get("special", ()))
        if "elderly" not in groups and rng.random() < 0.08:
            groups = (*groups, "elderly")
        answered = channel == "hotline" and service == "consultation" and rng.random() < 0.45
        response = "accept" if answered else _pick(rng, RESPONSES)
        if today:
            response = "open" if rng.random() < 0.7 else "accept"
        outcome = ""
        if service == "legal_aid":
            outcome = "grant" if rng.random() < 0.88 else "refuse"
        elif service == "mediation":
            outcome = _pick(rng, {"oral": 70, "failed": 15, "open": 15})
        base = dict(
            key=f"D{self.n:04d}",
            day=day,
            hour=hour,
            minute=rng.randrange(0, 40),  # answered at :50, within every offer's timeout
            channel=channel,
            county=county,
            region_code=self.region(county),
            service_type=service,
            domain=text.get("domain"),
            description=DEMO_MARK + text["text"],
            name=name,
            phone=phone,
            special_groups=tuple(sorted(set(groups))),
            urgency=text.get("urgency"),
            source=_pick(rng, EXTERNAL_SOURCES) if channel == "external" else None,
            portal=rng.choice(PORTALS) if channel == "web" else None,
            answered_on_call=answered,
            response=response,
            outcome=outcome,
        )
        rating = rng.choices([5, 4, 3, 2, 1], weights=[62, 24, 8, 4, 2])[0] if rng.random() < 0.8 else None
        steps = () if today else self.steps_of(day, service, response, outcome, answered)
        return DemoOrder(
            **base,  # type: ignore[arg-type]
            rating=rating if any(s.action == "close" for s in steps) or answered else None,
            rating_via="web" if rng.random() < 0.35 else "operator",
            steps=steps,
        )

    def steps_of(
        self, day: int, service: str, response: str, outcome: str, answered: bool
    ) -> tuple[Step, ...]:
        """The order's later steps, by days after filing; those after the last day never run, so
        younger orders stop at an earlier stage — as a month of real work leaves them."""
        rng = self.rng
        if answered:
            return (self.step(day + rng.randint(1, 3), "rate"),) if rng.random() < 0.6 else ()
        steps: list[Step] = []
        if response == "ignore":
            return ()
        if response == "ignore_then_assign":
            steps.append(self.step(day + 1, "supervisor_assign"))
            day += 1
        if service == "legal_aid":
            steps += [self.step(day + 1, "aid_apply"), self.step(day + rng.randint(2, 4), "aid_decide")]
            if outcome == "grant":
                d = steps[-1].day
                steps += [
                    self.step(d + 1, "aid_assign"),
                    self.step(d + rng.randint(2, 3), "aid_lawyer_accept"),
                ]
                d = steps[-1].day + rng.randint(8, 14)
                steps += [self.step(d, "aid_close"), *self.closing(d + 1)]
            else:
                d = steps[-1].day + 1
                steps += self.closing(d)
        elif service == "mediation":
            steps += [self.step(day + 1, "med_consent"), self.step(day + 2, "med_session")]
            if outcome != "open":
                d = steps[-1].day + rng.randint(1, 3)
                steps += [self.step(d, "med_outcome"), *self.closing(d + 1)]
        else:
            # Late for about one in ten: past the callback's 5 working days (及时率 below 100 %).
            lag = rng.randint(7, 10) if rng.random() < 0.1 else rng.randint(1, 4)
            if rng.random() < 0.06:
                return tuple(steps)  # never called back: overdue on the supervisor's screen
            steps += self.closing(day + lag)
        if any(s.action == "close" for s in steps):
            last = steps[-1]
            steps.append(self.step(last.day + rng.randint(0, 2), "rate", hour=max(last.hour, 15)))
        return _in_order(steps)


def _in_order(steps: list[Step]) -> tuple[Step, ...]:
    """Never before the step it follows (a step moved off a weekend may land on the next one's
    day): the same tick then runs them in their order."""
    out: list[Step] = []
    for s in steps:
        if out and (s.day, s.hour) < (out[-1].day, out[-1].hour):
            s = Step(out[-1].day, out[-1].hour, s.action)
        out.append(s)
    return tuple(out)


def build_plan(*, start: date, days: int = 30, per_day: int = 15, today: int = 6, seed: int = SEED) -> Plan:
    """`days` days of history from `start` (the day after the last is today), about `per_day`
    orders each working day and a quarter of that at weekends, plus `today` orders to file at
    the moment of loading (left open: live offers in the inboxes)."""
    gen = _Gen(seed, start, days)
    orders: list[DemoOrder] = []
    for day in range(days):
        weekend = gen.weekday(day) >= 5
        count = max(1, per_day // 4) if weekend else max(1, per_day + gen.rng.randint(-3, 3))
        hours = WEEKEND_HOURS if weekend else WEEKDAY_HOURS
        slots = sorted(gen.rng.choice(hours) for _ in range(count))
        for hour in slots:
            orders.append(gen.order(day, hour, weekend=weekend))
    orders = _with_repeat_calls(gen, orders)
    todays = tuple(gen.order(days, 0, weekend=False, today=True) for _ in range(today))
    return Plan(start, days, tuple(orders), todays)


def _with_repeat_calls(gen: _Gen, orders: list[DemoOrder]) -> list[DemoOrder]:
    """About one hotline call in thirty is the same caller again about an order filed the day
    before (催办): intake merges it into that order itself."""
    out = list(orders)
    for i, o in enumerate(orders):
        if o.channel != "hotline" or o.answered_on_call or gen.rng.random() > 0.035:
            continue
        earlier = [
            p for p in orders[:i] if p.day == o.day - 1 and not p.answered_on_call and p.channel != "web"
        ]
        if not earlier:
            continue
        first = gen.rng.choice(earlier)
        out[i] = DemoOrder(
            key=o.key,
            day=o.day,
            hour=o.hour,
            minute=o.minute,
            channel="hotline",
            county=first.county,
            region_code=first.region_code,
            service_type=first.service_type,
            domain=first.domain,
            description=first.description + "怎么还没人联系我？",
            name=first.name,
            phone=first.phone,
            special_groups=first.special_groups,
            repeat_of=first.key,
            response="none",
        )
    return out


def summary(plan: Plan) -> dict[str, dict[str, int]]:
    """Counts by channel, type and response: what the unit test compares between two plans."""
    out: dict[str, dict[str, int]] = {"channel": {}, "service_type": {}, "response": {}}
    for o in (*plan.orders, *plan.today):
        for k in out:
            v = getattr(o, k)
            out[k][v] = out[k].get(v, 0) + 1
    return out
