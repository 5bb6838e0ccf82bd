"""Pure rules of people's mediation (中华人民共和国人民调解法, 2010). No I/O.

Every rule cites its article; the HTTP and DB layers only call these functions.
"""

from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass
from datetime import date, datetime

from libs.common import workflow
from libs.common.bilingual import Text
from libs.common.calendar import Deadline, WorkCalendar
from libs.common.clock import CHINA_TZ
from libs.common.workflow import Refusal, StateMachine

SERVICE_TYPE = "mediation"

# --- vocabularies -------------------------------------------------------------------------------

# 案件来源 (DOMAIN.md §People's mediation 7).
SOURCES = {
    "application": "当事人申请",
    "own_initiative": "主动调解",
    "police": "公安机关移送（警调）",
    "court": "人民法院委派/委托（诉调）",
    "petition": "信访部门移送（访调）",
    "government": "政府部门移送",
}
# Court referrals (诉调对接): pre-filing 委派 or post-filing 委托 under ordinary / summary procedure.
COURT_PROCEDURES = {
    "pre_filing": "立案前委派调解",
    "post_filing_ordinary": "立案后委托调解（普通程序）",
    "post_filing_summary": "立案后委托调解（简易程序）",
}
DISPUTE_TYPES = {
    "neighbour": "邻里纠纷",
    "marriage": "婚姻纠纷",
    "family": "家庭纠纷（赡养、抚养、继承）",
    "adoption": "收养纠纷",
    "personal_status": "身份关系纠纷",
    "land": "土地承包、宅基地纠纷",
    "property_management": "物业纠纷",
    "contract": "合同纠纷",
    "debt": "民间借贷纠纷",
    "damages": "损害赔偿纠纷",
    "labour": "劳动争议",
    "traffic": "道路交通事故纠纷",
    "medical": "医疗纠纷",
    "consumer": "消费纠纷",
    "other": "其他民间纠纷",
}
# First guess of the dispute type from a citizen's words (orders from dispatch carry none); the
# mediator confirms or corrects it at registration, since Art 33's exclusions depend on it.
_TYPE_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("adoption", ("收养", "领养")),
    ("marriage", ("离婚", "婚姻", "彩礼", "夫妻")),
    ("family", ("赡养", "抚养", "继承", "遗产", "分家")),
    ("labour", ("工资", "欠薪", "工伤", "劳动", "辞退")),
    ("traffic", ("交通事故", "车祸", "撞")),
    ("medical", ("医院", "医疗", "手术")),
    ("land", ("宅基地", "土地", "承包地", "地界")),
    ("property_management", ("物业",)),
    ("debt", ("借款", "欠款", "借钱", "还钱", "欠条")),
    ("consumer", ("退款", "商家", "消费")),
    ("neighbour", ("邻居", "噪音", "漏水", "滴水", "通道")),
    ("contract", ("合同", "装修", "租房", "房租")),
    ("damages", ("赔偿", "损坏", "打伤")),
]


def guess_dispute_type(text: str) -> str:
    for kind, words in _TYPE_WORDS:
        if any(w in text for w in words):
            return kind
    return "other"


# Art 33 + 民事诉讼法解释: no judicial confirmation of personal status, adoption or marriage itself.
NO_JUDICIAL_CONFIRMATION = frozenset({"marriage", "adoption", "personal_status"})
COMMITTEE_KINDS = {
    "village": "村民委员会人民调解委员会",
    "residents": "居民委员会人民调解委员会",
    "township": "乡镇人民调解委员会",
    "street": "街道人民调解委员会",
    "enterprise": "企业事业单位人民调解委员会",
    "county_joint": "县级联合人民调解委员会",
}
SIGN_METHODS = {"signature": "签名", "seal": "盖章", "thumbprint": "按指印"}

# --- state machine --------------------------------------------------------------------------------

STATUSES = {
    "registered": "已登记，征求当事人同意",
    "accepted": "已受理",
    "mediating": "调解中",
    "agreement_pending": "调解协议书待签署",
    "agreed": "已达成协议，履行中",
    "closed": "已结案",
}
OPEN_STATUSES = frozenset({"registered", "accepted", "mediating", "agreement_pending"})

# action -> (allowed from-statuses, to-status or None for "stays where it is")
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "add_party": (frozenset({"registered"}), None),
    "update_registration": (frozenset({"registered", "accepted", "mediating"}), None),
    "consent": (frozenset({"registered"}), None),
    "accept": (frozenset({"registered"}), "accepted"),  # every party consented (Art 17)
    "refuse": (OPEN_STATUSES, "closed"),  # a party refuses or asks to stop (Art 17, 23)
    "assign_mediator": (frozenset({"registered", "accepted", "mediating"}), None),
    "recuse": (frozenset({"registered", "accepted", "mediating", "agreement_pending"}), None),
    "schedule_session": (frozenset({"accepted", "mediating"}), "mediating"),
    "record_session": (frozenset({"mediating", "agreement_pending"}), None),
    "report_risk": (OPEN_STATUSES | {"agreed"}, None),
    "extend": (OPEN_STATUSES, None),
    "draft_agreement": (frozenset({"mediating"}), "agreement_pending"),
    "sign_agreement": (frozenset({"agreement_pending"}), None),
    "agreement_effective": (frozenset({"agreement_pending"}), "agreed"),
    "oral_agreement": (frozenset({"mediating"}), "agreed"),  # Art 28, 30
    "fail": (frozenset({"accepted", "mediating", "agreement_pending"}), "closed"),  # Art 26
    "follow_up": (frozenset({"agreed"}), None),  # Art 31
    "confirmation_applied": (frozenset({"agreed"}), None),  # Art 33
    "return_visit": (frozenset({"agreed", "closed"}), "closed"),
    "deadline_breached": (OPEN_STATUSES, None),
    # When the application / referral was really received, corrected with a reason (the period
    # counts from it); and a holiday year entered later moving a due date (民法典 Art 203).
    "correct_receipt": (OPEN_STATUSES, None),
    "recompute_deadline": (OPEN_STATUSES | {"agreed"}, None),
}
SYSTEM_ACTIONS = frozenset({"deadline_breached", "recompute_deadline"})  # never offered to a person
# Sessions are held by a mediator (Art 19, 22): scheduling one waits for the assignment.
NO_MEDIATOR = Refusal(Text("请先指派人民调解员", "assign a mediator first"), ("assign_mediator",))


MACHINE = StateMachine.from_sources(
    TRANSITIONS,
    STATUSES,
    hidden=SYSTEM_ACTIONS,
    guards={"schedule_session": lambda case: None if case.mediator_staff_id else NO_MEDIATOR},
)
IllegalTransition = workflow.IllegalTransition


def allowed_actions(status: str) -> list[str]:
    return MACHINE.allowed_actions(status)


def transition(status: str, action: str) -> str:
    """The status after `action`, or IllegalTransition (→ 409 listing what is allowed)."""
    return MACHINE.next_state(status, action)


# --- consent (Art 17, 23) ---------------------------------------------------------------------------


def initial_consent(source: str, side: str) -> str:
    """An applicant who applied has consented by applying (Art 17); everyone else is asked."""
    return "given" if source == "application" and side == "applicant" else "pending"


def consent_complete(parties: list[tuple[str, str]]) -> bool:
    """(side, consent) of every party: both sides present and every party said yes (Art 17)."""
    sides = {s for s, _ in parties}
    return {"applicant", "respondent"} <= sides and all(c == "given" for _, c in parties)


@dataclass(frozen=True)
class Route:
    code: str
    zh: str


def other_routes(dispute_type: str) -> list[Route]:
    """What the parties are told when mediation stops or fails (Art 26): arbitration,
    administrative and judicial routes, adjusted to the kind of dispute."""
    routes: list[Route] = []
    if dispute_type == "labour":
        # 劳动争议调解仲裁法 Art 5: arbitration comes before a lawsuit in labour disputes.
        routes.append(Route("arbitration", "向劳动人事争议仲裁委员会申请仲裁（劳动争议须先经仲裁）"))
    elif dispute_type in ("contract", "debt", "consumer", "property_management"):
        routes.append(Route("arbitration", "如双方订有仲裁协议，可向约定的仲裁委员会申请仲裁"))
    if dispute_type == "land":
        # 土地管理法 Art 14: ownership/use-right disputes go to the people's government first.
        routes.append(Route("administrative", "土地所有权、使用权争议可申请乡镇或县级人民政府处理"))
    elif dispute_type == "traffic":
        routes.append(Route("administrative", "可请求公安机关交通管理部门对损害赔偿进行调解"))
    elif dispute_type == "consumer":
        routes.append(Route("administrative", "可向市场监督管理部门投诉"))
    else:
        routes.append(Route("administrative", "可请求有关行政机关依法处理"))
    routes.append(Route("litigation", "可依法向人民法院提起诉讼"))
    return routes


# --- mediators (Art 19) and recusal -------------------------------------------------------------


@dataclass(frozen=True)
class Availability:
    active: bool
    on_leave_until: date | None
    slots: list[tuple[int, str, str]]  # (weekday, "HH:MM", "HH:MM"), China local time


def unavailable_reason(av: Availability, on: date) -> Text | None:
    """Why a mediator cannot take a case on a day (None if they can)."""
    if not av.active:
        return Text("该调解员已停用", "mediator is not active")
    if av.on_leave_until and on <= av.on_leave_until:
        return Text(f"该调解员休假至 {av.on_leave_until}", f"mediator on leave until {av.on_leave_until}")
    return None


def on_duty(av: Availability, at: datetime) -> bool:
    local = at.astimezone(CHINA_TZ)
    hhmm = f"{local:%H:%M}"
    return any(d == local.weekday() and s <= hhmm < e for d, s, e in av.slots)


def conflict_with(mediator_name: str, parties: list[str], recused: set[str], staff_id: str) -> Text | None:
    """A mediator with a recorded conflict, or who is a party, must not mediate (Art 21 fairness;
    司法部《人民调解工作若干规定》回避)."""
    if staff_id in recused:
        return Text(
            "该调解员已因利害关系回避本案", "mediator recused for a conflict of interest in this case"
        )
    if mediator_name in parties:
        return Text("调解员本人是本案当事人，应当回避", "the mediator is a party to this case")
    return None


# --- agreement (Art 28–30) -----------------------------------------------------------------------

ART29_FIELDS = {
    "facts": "纠纷的主要事实",
    "disputed_points": "争议事项",
    "responsibilities": "各方当事人的责任",
    "terms": "当事人达成调解协议的内容",
    "performance_manner": "履行方式",
    "performance_deadline": "履行期限",
}


def agreement_before_session(held_sessions: int) -> Text | None:
    """Why no agreement can be recorded yet (None: it can). An agreement is one "经人民调解委员会
    调解达成" (Art 28): reached in mediation, where the mediator heard the parties and helped them
    agree (Art 22) and recorded how it went (Art 27). With no session held there was no mediation
    to reach it in — a slip of the wrong button, not an agreement."""
    if held_sessions < 1:
        return Text(
            "尚未召开并记录调解会，不能登记调解协议（人民调解法第二十二条、第二十七条、第二十八条）",
            "no mediation session has been held and recorded yet",
        )
    return None


def missing_art29(contents: dict[str, object]) -> list[str]:
    """Art 29 contents the written agreement still lacks (party particulars come from the parties)."""
    return [f for f in ART29_FIELDS if not contents.get(f)]


def agreement_effective(
    *, party_signatures: list[str | None], mediator_signed: bool, committee_sealed: bool
) -> tuple[bool, list[str]]:
    """Art 29: effective on the day every party has signed/sealed/thumb-printed, the mediator has
    signed AND the committee's seal is applied. Returns (effective, what is still missing) — joined
    "中文 | English" strings, as the sign event publishes them."""
    missing: list[str] = []
    unsigned = sum(1 for s in party_signatures if not s)
    if unsigned or not party_signatures:
        missing.append(
            str(Text(f"{unsigned} 名当事人尚未签名、盖章或按指印", f"{unsigned} parties have not signed"))
        )
    if not mediator_signed:
        missing.append(str(Text("人民调解员尚未签名", "mediator has not signed")))
    if not committee_sealed:
        missing.append(str(Text("尚未加盖人民调解委员会印章", "committee seal not recorded")))
    return not missing, missing


# --- judicial confirmation (Art 33) -------------------------------------------------------------

CONFIRMATION_DAYS = 30


def confirmation_offer(
    dispute_type: str, form: str, effective_on: date, cal: WorkCalendar
) -> tuple[bool, Deadline | None, str]:
    """Both parties may jointly apply to the court within 30 days of the agreement taking effect
    (Art 33) — not for personal status, adoption or marriage itself, and only for a written one."""
    if dispute_type in NO_JUDICIAL_CONFIRMATION:
        return False, None, "涉及身份关系、收养或婚姻关系本身的协议不适用司法确认（人民调解法第三十三条）"
    if form != "written":
        return False, None, "口头协议无法申请司法确认，如需确认请制作调解协议书"
    deadline = cal.add_days(effective_on, CONFIRMATION_DAYS)
    text = (
        f"双方当事人可以自调解协议生效之日起三十日内（{deadline.due} 前）共同向人民法院申请司法确认；"
        "确认有效后，一方拒绝履行的，对方可以向人民法院申请强制执行（人民调解法第三十三条）"
    )
    return True, deadline, text


def confirmation_application_problem(
    confirmation: dict | None, applied_on: date, party_ids: list[str], applying: list[str]
) -> Text | None:
    """Art 33: BOTH parties apply TOGETHER, within 30 days, and only where confirmation is available."""
    if not confirmation or not confirmation.get("offered"):
        return Text("本案调解协议不适用司法确认", "judicial confirmation is not available for this agreement")
    if set(party_ids) - set(applying):
        return Text("司法确认须由双方当事人共同申请", "every party must join the application")
    if confirmation.get("deadline") and applied_on > date.fromisoformat(confirmation["deadline"]):
        return Text("已超过三十日申请期限", "the 30-day period for judicial confirmation has passed")
    return None


# --- clocks -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockRule:
    months: int = 0
    days: int = 0
    basis_zh: str = ""


DEFAULT_RULES: dict[str, ClockRule] = {
    "default": ClockRule(months=1, basis_zh="一般纠纷一个月内调结"),
    "pre_filing": ClockRule(days=30, basis_zh="立案前委派调解 30 日"),
    "post_filing_ordinary": ClockRule(days=15, basis_zh="立案后委托调解（普通程序）15 日"),
    "post_filing_summary": ClockRule(days=7, basis_zh="立案后委托调解（简易程序）7 日"),
}


def clock_key(source: str, court_procedure: str | None) -> str:
    return court_procedure if source == "court" and court_procedure else "default"


def add_months(d: date, months: int) -> date:
    """民法典 Art 202: a period in months ends on the corresponding day (or the month's last day)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, _cal.monthrange(year, month)[1]))


def mediation_deadline(
    source: str,
    court_procedure: str | None,
    start: date,
    cal: WorkCalendar,
    rules: dict[str, ClockRule] | None = None,
) -> tuple[Deadline, str]:
    """Due date of the mediation (start day excluded, holiday end rolled: 民法典 Art 201, 203)."""
    rule = (rules or DEFAULT_RULES)[clock_key(source, court_procedure)]
    if rule.months:
        due = cal.next_workday(add_months(start, rule.months))
        return Deadline(due, cal.warnings_for(start, due)), rule.basis_zh
    return cal.add_days(start, rule.days), rule.basis_zh


def mediation_due(
    source: str,
    court_procedure: str | None,
    start: date,
    extensions: list[dict],
    cal: WorkCalendar,
    rules: dict[str, ClockRule] | None = None,
) -> tuple[Deadline, str, list[dict]]:
    """The due date from the receipt (`start`) with every agreed extension applied in turn — how a
    corrected receipt or a newly entered holiday year recomputes a case. Returns the deadline (the
    warnings of every step), its basis and the extensions with their from/to dates recomputed."""
    first, basis = mediation_deadline(source, court_procedure, start, cal, rules)
    due, warnings, steps = first.due, list(first.warnings), []
    for ext in extensions:
        nxt = cal.add_days(due, int(ext["days"]))
        steps.append({**ext, "from": due.isoformat(), "to": nxt.due.isoformat()})
        warnings += [w for w in nxt.warnings if w not in warnings]
        due = nxt.due
    return Deadline(due, warnings), basis, steps


def touches_year(start: date, due: date, year: int) -> bool:
    """Did counting from `start` to `due` read days of `year`? (Only those days are consulted.)"""
    return start.year <= year <= due.year


def extension_allowed(consents: dict[str, bool], party_ids: list[str]) -> list[str]:
    """Extension only with every party's consent: returns the parties who have not agreed."""
    return [p for p in party_ids if not consents.get(p)]


def breached(due: date | None, today: date) -> bool:
    return due is not None and today > due


# --- statistics and identifiers ------------------------------------------------------------------


def success_rate(agreed: int, failed: int) -> float | None:
    """调解成功率 = agreements / concluded mediations (refusals before mediation are not counted)."""
    concluded = agreed + failed
    return round(agreed / concluded, 4) if concluded else None


def opens_case(service_type: str) -> bool:
    """Only orders of this service's type become cases here."""
    return service_type == SERVICE_TYPE


def format_case_number(opened_at: datetime, county_code: str, seq: int) -> str:
    return f"TJ{county_code}{opened_at.astimezone(CHINA_TZ):%Y}{seq % 100_000:05d}"


_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"


def valid_resident_id(number: str) -> bool:
    """18-digit resident ID with its ISO 7064 MOD 11-2 check digit (GB 11643)."""
    n = number.strip().upper()
    if len(n) != 18 or not n[:17].isdigit():
        return False
    try:
        date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return False
    return _ID_CHECK[sum(int(c) * w for c, w in zip(n[:17], _ID_WEIGHTS, strict=True)) % 11] == n[17]


def local_date(at: datetime) -> date:
    return at.astimezone(CHINA_TZ).date()
