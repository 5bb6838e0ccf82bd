"""Pure rules of legal aid (中华人民共和国法律援助法): the case state machine, scope, hardship,
exemptions, completeness, clocks and termination causes. No I/O; unit-tested exhaustively."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from libs.common import special_groups, workflow
from libs.common.bilingual import Text
from libs.common.calendar import Deadline, WorkCalendar
from libs.common.clock import CHINA_TZ
from libs.common.workflow import Refusal, StateMachine
from services.aid.settings import AidRules

SERVICE_TYPE = "legal_aid"


def opens_case(service_type: str) -> bool:
    """Only orders of this service's type become cases here."""
    return service_type == SERVICE_TYPE


def format_case_number(opened_at: datetime, county_code: str, seq: int) -> str:
    return f"FY{county_code}{opened_at.astimezone(CHINA_TZ):%Y}{seq % 100_000:05d}"


# ---------------------------------------------------------------- state machine
STATES = {
    "received": "已收到申请",
    "incomplete": "待补充材料（已一次性告知）",
    "under_review": "审查中",
    "granted": "准予法律援助，待指派",
    "refused": "不予法律援助",
    "assigned": "已指派，待律师接受",
    "in_progress": "承办中",
    "closed": "已结案，待补贴与回访",
    "archived": "已归档",
    "terminated": "已终止法律援助",
    "objecting_refusal": "对不予援助的异议审查中",
    "objecting_termination": "对终止援助的异议审查中",
    "withdrawn": "已撤回（含逾期未补充视为撤回）",
}

# action -> {from_state: to_state}. Anything not listed is refused with 409 and the allowed list.
TRANSITIONS: dict[str, dict[str, str]] = {
    "request_materials": {"received": "incomplete"},
    "accept_application": {"received": "under_review", "incomplete": "under_review"},
    "supplement_partial": {"incomplete": "incomplete"},
    "withdraw": {"received": "withdrawn", "incomplete": "withdrawn", "under_review": "withdrawn"},
    "grant": {"under_review": "granted"},
    "refuse": {"under_review": "refused"},
    # Art 44: provide first, review later — straight to granted from any pre-decision state.
    "provide_first": {"received": "granted", "incomplete": "granted", "under_review": "granted"},
    "assign": {"granted": "assigned"},
    "lawyer_accept": {"assigned": "in_progress"},
    "lawyer_decline": {"assigned": "granted"},
    "report_progress": {"in_progress": "in_progress"},
    "close": {"in_progress": "closed"},
    "record_subsidy": {"closed": "closed"},
    "return_visit": {"closed": "closed"},
    "archive": {"closed": "archived"},
    # Art 48: only while aid is being given.
    "terminate": {"granted": "terminated", "assigned": "terminated", "in_progress": "terminated"},
    # Art 49: objection to a refusal or a termination.
    "object": {"refused": "objecting_refusal", "terminated": "objecting_termination"},
    "objection_accept": {"objecting_refusal": "granted", "objecting_termination": "granted"},
    "objection_reject": {"objecting_refusal": "refused", "objecting_termination": "terminated"},
}
TERMINAL = {"archived", "withdrawn"}
# When the application / notice was really received can be corrected (with a reason) while the
# case lives; the clocks counted from it follow (法律援助法 Art 43, 36).
TRANSITIONS["correct_receipt"] = {s: s for s in STATES if s not in TERMINAL}


# Rules on the case itself, beyond its state (libs.common.workflow guard hooks).
_UNBLOCKS = {"closure": "close", "subsidy": "record_subsidy", "return_visit": "return_visit"}


def _archive_ready(case: Any) -> Refusal | None:
    """A case is archived with its closure material, subsidy and return visit on file."""
    missing = [n for n in _UNBLOCKS if not getattr(case, n)]
    if not missing:
        return None
    text = Text("归档前须完成结案材料、补贴和回访", "archive needs closure, subsidy and return visit")
    return Refusal(text, tuple(_UNBLOCKS[n] for n in missing), {"missing": missing})


def _not_objected_yet(case: Any) -> Refusal | None:
    """Art 49: one objection per decision (a refusal, a termination)."""
    against = "refusal" if case.status == "refused" else "termination"
    if case.objection and case.objection.get("against") == against:
        return Refusal(Text("对该决定的异议已经审查", "this decision was already objected to"))
    return None


MACHINE = StateMachine(
    edges=TRANSITIONS,
    state_names=STATES,
    guards={"archive": _archive_ready, "object": _not_objected_yet},
)
IllegalTransition = workflow.IllegalTransition


def allowed_actions(state: str) -> list[str]:
    return MACHINE.allowed_actions(state)


def next_state(state: str, action: str) -> str:
    return MACHINE.next_state(state, action)


# ---------------------------------------------------------------- application facts
@dataclass
class Means:
    household_size: int
    monthly_income: Decimal  # whole household, CNY per month
    assets: Decimal = Decimal(0)
    verification: str | None = None  # data_sharing | honesty_commitment (Art 41)
    verified: bool = False  # data_sharing answered (or officer checked)


@dataclass
class Facts:
    province: str
    matter: str  # a key of rules.all_matters(province)
    applicant_birth: date | None
    exemption: str | None  # a key of EXEMPTIONS (Art 42)
    means: Means | None
    attachments: set[str]
    proxy_kind: str | None = None  # legal_representative | near_relative | custody
    today: date = field(default_factory=date.today)


# Art 42: exempt from verifying hardship, each with the proof it needs.
EXEMPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "minor_no_income": ("无固定生活来源的未成年人", ("identity", "no_fixed_income_proof")),
    "elderly_no_income": ("无固定生活来源的老年人", ("identity", "no_fixed_income_proof")),
    "disabled_no_income": ("无固定生活来源的残疾人", ("disability_certificate", "no_fixed_income_proof")),
    "social_relief": ("社会救助对象（最低生活保障、特困供养等）", ("social_relief_certificate",)),
    "judicial_relief": ("司法救助对象", ("judicial_relief_decision",)),
    "special_care": ("优抚对象", ("special_care_certificate",)),
    "migrant_worker": ("请求支付劳动报酬或工伤赔偿的进城务工人员", ("migrant_work_proof",)),
}
MIGRANT_MATTERS = {"labour_pay", "work_injury", "migrant_wage_arrears_arbitration"}
ELDERLY_AGE = 60  # 老年人权益保障法 Art 2
# 四优先 special groups: the taxonomy intake validates orders against (libs/common/special_groups.py),
# so a case opened at the window names them as one opened from a work order does.
SPECIAL_GROUPS = special_groups.SPECIAL_GROUPS

ATTACHMENT_NAMES = {
    "identity": "申请人身份证明",
    "proxy_proof": "代理人身份及代理关系证明",
    "matter_materials": "与所申请法律援助事项有关的材料",
    "hardship_statement": "经济困难状况说明表",
    "honesty_commitment": "个人诚信承诺书（第四十一条）",
    "no_fixed_income_proof": "无固定生活来源的证明",
    "disability_certificate": "残疾人证",
    "social_relief_certificate": "社会救助（低保/特困）证明",
    "judicial_relief_decision": "司法救助决定书",
    "special_care_certificate": "优抚对象证明",
    "migrant_work_proof": "务工及劳动关系证明",
}


def age_on(birth: date | None, today: date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def means_test_applies(matter: str, rules: AidRules) -> bool:
    """Art 32: these matters are granted regardless of the applicant's finances."""
    return matter not in rules.no_means_test_art32


def exemption_problems(facts: Facts) -> list[str]:
    """Why a claimed Art 42 exemption does not hold (empty list = it holds)."""
    if facts.exemption is None:
        return ["未声明免予核查经济困难的情形"]
    if facts.exemption not in EXEMPTIONS:
        return [f"未知的免核查类别 {facts.exemption}"]
    problems = []
    age = age_on(facts.applicant_birth, facts.today)
    if facts.exemption == "minor_no_income" and not (age is not None and age < 18):
        problems.append("申请人不是未成年人")
    if facts.exemption == "elderly_no_income" and not (age is not None and age >= ELDERLY_AGE):
        problems.append(f"申请人未满 {ELDERLY_AGE} 周岁")
    if facts.exemption == "migrant_worker" and facts.matter not in MIGRANT_MATTERS:
        problems.append("进城务工人员免核查仅限请求支付劳动报酬或工伤赔偿（第四十二条第三项）")
    _, proofs = EXEMPTIONS[facts.exemption]
    problems += [f"缺少{ATTACHMENT_NAMES[p]}" for p in proofs if p not in facts.attachments]
    return problems


@dataclass
class Eligibility:
    eligible: bool
    in_scope: bool
    means_test: str  # not_required_art32 | exempt_art42 | passed | failed | unverified | notification
    basis: list[str]
    problems: list[str]

    def as_dict(self) -> dict:  # type: ignore[type-arg]
        return {
            "eligible": self.eligible,
            "in_scope": self.in_scope,
            "means_test": self.means_test,
            "basis": self.basis,
            "problems": self.problems,
        }


def scope_basis(matter: str, province: str, rules: AidRules) -> str | None:
    if matter in rules.scope_art31:
        return f"第三十一条：{rules.scope_art31[matter]}"
    if matter in rules.extensions(province):
        return f"第三十一条第九项（省级规定）：{rules.extensions(province)[matter]}"
    if matter in rules.no_means_test_art32:
        return f"第三十二条：{rules.no_means_test_art32[matter]}"
    if matter in rules.criminal_applications:
        return rules.criminal_applications[matter]
    return None


def evaluate(facts: Facts, rules: AidRules) -> Eligibility:
    """Scope (Art 24, 29, 31, 32) then hardship (Art 34, 41, 42): result plus the rules relied on."""
    basis: list[str] = []
    scope = scope_basis(facts.matter, facts.province, rules)
    if scope is None:
        return Eligibility(False, False, "unverified", [], ["所申请事项不属于法律援助范围（第三十一条）"])
    basis.append(scope)
    if not means_test_applies(facts.matter, rules):
        basis.append("第三十二条：不受经济困难条件限制")
        return Eligibility(True, True, "not_required_art32", basis, [])
    if facts.exemption:
        problems = exemption_problems(facts)
        if not problems:
            label = EXEMPTIONS[facts.exemption][0]
            basis.append(f"第四十二条：{label}，免予核查经济困难状况")
            return Eligibility(True, True, "exempt_art42", basis, [])
        if facts.means is None:
            return Eligibility(False, True, "unverified", basis, problems)
    return _means_test(facts, rules, basis)


def _means_test(facts: Facts, rules: AidRules, basis: list[str]) -> Eligibility:
    m = facts.means
    if m is None:
        return Eligibility(False, True, "unverified", basis, ["未提供家庭经济状况"])
    # Art 41: the statement is checked through data sharing, or accepted on a signed commitment.
    if m.verification == "honesty_commitment" and "honesty_commitment" in facts.attachments:
        basis.append("第四十一条：申请人书面作出个人诚信承诺")
    elif m.verification == "data_sharing" and m.verified:
        basis.append("第四十一条：经信息共享查询核实")
    else:
        return Eligibility(False, True, "unverified", basis, ["经济困难状况尚未核查，也无个人诚信承诺"])
    t = rules.threshold(facts.province)
    per_capita = (m.monthly_income / max(m.household_size, 1)).quantize(Decimal("0.01"))
    problems = []
    if per_capita > t.monthly_income_per_capita:
        problems.append(f"家庭人均月收入 {per_capita} 元高于本省标准 {t.monthly_income_per_capita} 元")
    if t.assets_max is not None and m.assets > t.assets_max:
        problems.append(f"家庭资产 {m.assets} 元高于本省标准 {t.assets_max} 元")
    if problems:
        return Eligibility(False, True, "failed", basis, problems)
    basis.append(f"第三十四条：家庭人均月收入 {per_capita} 元不高于本省标准 {t.monthly_income_per_capita} 元")
    return Eligibility(True, True, "passed", basis, [])


def missing_items(facts: Facts, rules: AidRules) -> list[str]:
    """Art 43 一次性告知: every item the file lacks, in one list (codes of ATTACHMENT_NAMES)."""
    missing = []
    if "identity" not in facts.attachments:
        missing.append("identity")
    if facts.proxy_kind and "proxy_proof" not in facts.attachments:
        missing.append("proxy_proof")
    if "matter_materials" not in facts.attachments:
        missing.append("matter_materials")
    if means_test_applies(facts.matter, rules):
        if facts.exemption in EXEMPTIONS:
            missing += [p for p in EXEMPTIONS[facts.exemption][1] if p not in facts.attachments]
        else:
            if "hardship_statement" not in facts.attachments:
                missing.append("hardship_statement")
            m = facts.means
            if m and m.verification == "honesty_commitment" and "honesty_commitment" not in facts.attachments:
                missing.append("honesty_commitment")
    return list(dict.fromkeys(missing))


def blocking_items(missing: list[str], rules: AidRules, accept_with_missing: bool) -> list[str]:
    """容缺受理: deferrable items do not block acceptance when the officer chooses so."""
    if not accept_with_missing:
        return missing
    return [m for m in missing if m not in rules.deferrable_items]


# ---------------------------------------------------------------- clocks
@dataclass(frozen=True)
class ClockRule:
    days: int
    article: str
    label: str


CLOCKS = {
    "decision": ClockRule(7, "法律援助法第四十三条", "审查并作出是否给予法律援助的决定"),
    "assignment": ClockRule(3, "法律援助法第四十三条、第三十六条", "指派律师"),
    "objection": ClockRule(5, "法律援助法第四十九条", "对异议作出决定"),
}
# Art 43: an applicant who does not supplement as told is deemed to withdraw; the period itself
# is local practice (rules.yaml supplement_days).
SUPPLEMENT_ARTICLE = "法律援助法第四十三条（一次性告知，逾期视为撤回）"


def clock_due(cal: WorkCalendar, name: str, start: date, *, days: int | None = None) -> Deadline:
    """民法典 Art 201/203: start day not counted; a due date on a holiday rolls to the next workday."""
    return cal.add_days(start, CLOCKS[name].days if days is None else days)


RECEIPT = "receipt"  # CaseClock.counts_from: the clock runs from the receipt (Art 43, Art 36)


def clock_days(name: str, days: int | None, rules: AidRules) -> int:
    """The period of a stored clock (older rows may not carry it)."""
    if days is not None:
        return days
    return rules.supplement_days if name == "supplement" else CLOCKS[name].days


def touches_year(started_on: date, due: date, year: int) -> bool:
    """Did computing this clock read days of `year`? (start excluded, roll past holidays: only the
    days from start to due were consulted, so a year outside that span cannot move it)."""
    return started_on.year <= year <= due.year


def breached(due: date, today: date) -> bool:
    """The whole due day is available; the clock breaches the day after."""
    return today > due


def provide_first(
    limitation_due: date | None, today: date, rules: AidRules, *, urgent_preservation: bool = False
) -> str | None:
    """Art 44: why aid is provided before review, or None. (1) a limitation period or deadline
    fewer than 7 days away; (2) property/evidence preservation or advance execution needed at once."""
    if limitation_due is not None and (limitation_due - today).days < rules.provide_first_days:
        return f"第四十四条第一项：距法定时效或者期限届满（{limitation_due}）不足{rules.provide_first_days}日"
    if urgent_preservation:
        return "第四十四条第二项：需要立即申请财产保全、证据保全或者先予执行"
    return None


CUSTODY_FORWARD_HOURS = 24  # Art 39: custody forwards an application within 24 hours


def custody_forwarding_late(custody_received_at: datetime, received_at: datetime) -> bool:
    return received_at - custody_received_at > timedelta(hours=CUSTODY_FORWARD_HOURS)


# ---------------------------------------------------------------- termination, notification
# Art 48 (一)–(八): the only causes that end aid.
TERMINATION_CAUSES = {
    "fraud": "受援人以欺骗或者其他不正当手段获得法律援助",
    "concealment": "受援人故意隐瞒与案件有关的重要事实或者提供虚假证据",
    "illegal_use": "受援人利用法律援助从事违法活动",
    "finances_improved": "受援人的经济状况发生变化，不再符合法律援助条件",
    "case_ended": "案件终止审理或者已经被撤销",
    "own_lawyer": "受援人自行委托律师或者其他代理人",
    "recipient_request": "受援人有正当理由要求终止法律援助",
    "other": "法律法规规定的其他情形",
}

# Art 25 (通知辩护) and Art 28 (强制医疗): the grounds on which a body must notify.
NOTIFICATION_GROUNDS = {
    "minor": "未成年人（第二十五条第一款第一项）",
    "blind_deaf_mute": "视力、听力、言语残疾人（第二十五条第一款第二项）",
    "not_fully_capable": "不能完全辨认自己行为的成年人（第二十五条第一款第三项）",
    "life_or_death": "可能被判处无期徒刑、死刑的人（第二十五条第一款第四项）",
    "death_review": "申请法律援助的死刑复核案件被告人（第二十五条第一款第五项）",
    "absentia": "缺席审判案件的被告人（第二十五条第一款第六项）",
    "compulsory_treatment": "强制医疗案件的被申请人或者被告人（第二十八条）",
}
GRAVE_GROUNDS = {"life_or_death", "death_review"}  # Art 26: lawyer with ≥ 3 years' practice


def termination_problems(cause: str, reason: str) -> list[str]:
    if cause not in TERMINATION_CAUSES:
        return ["终止原因须为第四十八条列明的情形之一"]
    if len(reason.strip()) < 4:
        return ["须写明终止的具体理由"]
    return []


def id_number_valid(value: str) -> bool:
    """18-digit resident ID with ISO 7064 MOD 11-2 check digit (GB 11643)."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(value[:17], weights, strict=True))
    return "10X98765432"[total % 11] == value[17].upper()


def birth_from_id(value: str) -> date | None:
    try:
        return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None
