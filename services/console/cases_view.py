"""Pure view logic of the case screens (legal aid, people's mediation): which step forms a case
offers — by its state (the service's own `allowed_actions`), the viewer's roles (the services'
access policies) and what is already recorded — and how recorded values read (codes as labels,
booleans as 是/否, nothing as —). No I/O: unit-tested without servers.

The services stay the judges: a form shown here can still be refused (409/422/403), and that
answer is shown in the form. This module only keeps a person from being offered a step that
cannot apply now — 登记申请 on a lawyer's page, 签署 before an agreement was drafted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.console import i18n

# A form field: (name, kind, options). Kinds (see api_cases.step_body):
# text | textarea | number | date | datetime | lines (one list item per line) | select | bool |
# choice (select with an empty "—" first) | fixed (hidden, options[0]) | attachments / missing
# (checkboxes of materials → [{"kind": code}]) | party (select of parties) | pending_party (only
# parties whose consent is pending) | party_ids (checkboxes of parties, all ticked) | session
# (select of scheduled sessions: a path parameter) | lawyer / mediator (people pickers).
Field = tuple[str, str, tuple[str, ...]]
MULTI_KINDS = ("attachments", "missing", "party_ids")

ATTACHMENTS = (
    "identity",
    "proxy_proof",
    "matter_materials",
    "hardship_statement",
    "honesty_commitment",
    "no_fixed_income_proof",
    "disability_certificate",
    "social_relief_certificate",
    "judicial_relief_decision",
    "special_care_certificate",
    "migrant_work_proof",
)
MATTERS = ("labour_pay", "work_injury", "traffic_injury", "support_maintenance", "medical_injury")
EXEMPTIONS = (
    "minor_no_income",
    "elderly_no_income",
    "disabled_no_income",
    "social_relief",
    "judicial_relief",
    "special_care",
    "migrant_worker",
)
TERMINATION_CAUSES = (
    "fraud",
    "concealment",
    "illegal_use",
    "finances_improved",
    "case_ended",
    "own_lawyer",
    "recipient_request",
    "other",
)
AID_FORMS = (
    "civil_litigation_agency",
    "arbitration_agency",
    "non_litigation_agency",
    "administrative_litigation_agency",
    "state_compensation_agency",
    "document_drafting",
    "consultation",
)

DESK = ("aid_officer", "counter_staff", "admin")  # services/aid/access.py
OFFICER = ("aid_officer", "admin")
LAWYER = ("lawyer",)
WORK = ("mediator", "admin")  # services/mediation/access.py
REGISTER = ("mediator", "counter_staff", "admin")


@dataclass(frozen=True)
class Step:
    key: str  # console action: the form's testid step-{key} and POST /cases/{service}/{id}/{key}
    backend: str  # the service's state-machine action (its allowed_actions code)
    roles: tuple[str, ...]
    fields: list[Field]
    path: str = ""  # under /v1/cases/{id}/ (default: key); "{session_id}" filled from the form
    more: bool = False  # corrections and exceptional endings: folded away under 其他操作
    law: str = ""  # the i18n key of the legal basis shown with the form

    @property
    def endpoint(self) -> str:
        return self.path or self.key


AID_STEPS: list[Step] = [
    Step(
        "application",  # 法律援助法 Art 41-44: matter, form, means (or an exemption), materials
        "accept_application",
        DESK,
        [
            ("applicant.name", "text", ()),
            ("applicant.phone", "text", ()),
            ("applicant.id_number", "text", ()),
            ("matter.category", "select", MATTERS),
            ("matter.cause", "text", ()),
            ("matter.stage", "text", ()),
            ("matter.opposing_parties", "lines", ()),
            ("requested_form", "select", AID_FORMS),
            ("means.household_size", "number", ()),
            ("means.monthly_income", "number", ()),
            ("means.verification", "select", ("honesty_commitment", "data_sharing")),
            ("exemption", "choice", EXEMPTIONS),
            # Art 43 一次性告知: what is not ticked here is listed back to the applicant in one go.
            ("attachments", "attachments", ATTACHMENTS[:5]),
            ("accept_with_missing", "bool", ("no", "yes")),
            # Art 44 先行提供: a limitation period < 7 days away, or preservation needed at once.
            ("matter.limitation_due", "date", ()),
            ("matter.urgent_preservation", "bool", ("no", "yes")),
            # Art 43 counts from the receipt: a paper form received earlier says when, and why.
            ("received_at", "datetime", ()),
            ("receipt_reason", "text", ()),
        ],
        law="law.aid_application",
    ),
    Step(
        "supplement",
        "accept_application",
        DESK,
        [("attachments", "missing", ATTACHMENTS)],
        law="law.aid_supplement",
    ),
    Step(
        "decision",
        "grant",
        OFFICER,
        [("decision", "select", ("grant", "refuse")), ("reasons", "textarea", ())],
        law="law.aid_decision",
    ),  # fmt: skip
    Step("assign", "assign", OFFICER, [("lawyer_id", "lawyer", ())], law="law.aid_assign"),
    Step("lawyer-accept", "lawyer_accept", LAWYER, [("firm_consent_by", "text", ())], law="law.aid_accept"),
    Step("progress", "report_progress", LAWYER, [("note", "textarea", ())]),
    Step(
        "close",
        "close",
        LAWYER,
        [("documents", "lines", ()), ("report", "textarea", ()), ("outcome", "text", ())],
        law="law.aid_close",
    ),
    Step(
        "subsidy",
        "record_subsidy",
        OFFICER,
        [("amount", "number", ()), ("standard", "text", ())],
        law="law.aid_subsidy",
    ),
    Step(
        "return-visit",
        "return_visit",
        OFFICER,
        [
            ("satisfaction", "select", ("satisfied", "basically_satisfied", "unsatisfied")),
            ("note", "text", ()),
        ],
        law="law.aid_return_visit",
    ),
    Step("archive", "archive", OFFICER, []),
    Step("objection", "object", DESK, [("reason", "textarea", ())], law="law.aid_objection"),
    Step(
        "objection-decision",
        "objection_accept",
        ("supervisor", "admin"),
        [("outcome", "select", ("accept", "reject")), ("reason", "textarea", ())],
        path="objection/decision",
        law="law.aid_objection",
    ),
    Step(
        "lawyer-decline",
        "lawyer_decline",
        LAWYER,
        [("reason", "textarea", ())],
        more=True,
        law="law.aid_decline",
    ),  # fmt: skip
    Step("withdraw", "withdraw", DESK, [("reason", "textarea", ())], more=True),
    Step(
        "terminate",
        "terminate",
        OFFICER,
        [("cause", "select", TERMINATION_CAUSES), ("reason", "textarea", ())],
        more=True,
        law="law.aid_terminate",
    ),
    Step(
        "receipt",
        "correct_receipt",
        DESK,
        [("received_at", "datetime", ()), ("reason", "textarea", ())],
        more=True,
        law="law.aid_receipt",
    ),
]

MEDIATION_STEPS: list[Step] = [
    Step(
        "parties",
        "add_party",
        REGISTER,
        [
            ("parties.0.side", "select", ("respondent", "applicant")),
            ("parties.0.name", "text", ()),
            ("parties.0.phone", "text", ()),
            ("parties.0.address", "text", ()),
        ],
    ),
    Step(
        "consents",  # 人民调解法 Art 17, 23: every party agrees; one refusal ends the case
        "consent",
        WORK,
        [
            ("party_id", "pending_party", ()),
            ("decision", "select", ("given", "refused")),
            ("method", "select", ("written", "oral", "signed_form")),
            ("reason", "text", ()),
        ],
        law="law.med_consent",
    ),
    Step(
        "mediator",
        "assign_mediator",
        WORK,
        [("staff_id", "mediator", ()), ("chosen_by", "select", ("committee", "parties"))],
        law="law.med_mediator",
    ),
    Step(
        "sessions",
        "schedule_session",
        WORK,
        [
            ("scheduled_at", "datetime", ()),
            ("location", "text", ()),
            ("public", "bool", ("no", "yes")),
            ("invited", "lines", ()),
        ],
        law="law.med_session",
    ),
    Step(
        "record",
        "record_session",
        WORK,
        [("session_id", "session", ()), ("present_party_ids", "party_ids", ()), ("notes", "textarea", ())],
        path="sessions/{session_id}/record",
        law="law.med_record",
    ),
    Step(
        "agreement",  # Art 29: the contents of a written agreement
        "draft_agreement",
        WORK,
        [
            ("facts", "textarea", ()),
            ("disputed_points", "textarea", ()),
            ("responsibilities", "textarea", ()),
            ("terms", "textarea", ()),
            ("performance_manner", "text", ()),
            ("performance_deadline", "date", ()),
        ],
        law="law.med_agreement",
    ),
    Step(
        "oral-agreement",
        "oral_agreement",
        WORK,
        [("terms", "textarea", ()), ("performance_manner", "text", ()), ("performance_deadline", "date", ())],
        law="law.med_oral",
    ),
    Step(
        "signatures",
        "sign_agreement",
        WORK,
        [
            ("signer", "select", ("party", "mediator", "committee_seal")),
            ("party_id", "party", ()),
            ("method", "select", ("signature", "seal", "thumbprint")),
        ],
        path="agreement/signatures",
        law="law.med_sign",
    ),
    Step(
        "judicial-confirmation",
        "confirmation_applied",
        WORK,
        [("applied_on", "date", ()), ("court", "text", ()), ("applying_party_ids", "party_ids", ())],
        law="law.med_confirmation",
    ),
    Step(
        "follow-up",
        "follow_up",
        ("mediator", "supervisor", "admin"),
        [
            ("kind", "fixed", ("performance",)),
            ("performance", "select", ("full", "partial", "none")),
            ("note", "text", ()),
        ],
        path="follow-ups",
        law="law.med_follow_up",
    ),
    Step(
        "return-visit",
        "return_visit",
        ("mediator", "supervisor", "admin"),
        [("kind", "fixed", ("return_visit",)), ("satisfied", "bool", ("yes", "no")), ("note", "text", ())],
        path="follow-ups",
    ),
    Step("failure", "fail", WORK, [("reason", "textarea", ())], law="law.med_failure"),
    Step(
        "extensions",
        "extend",
        WORK,
        [("days", "number", ()), ("consenting_party_ids", "party_ids", ()), ("reason", "text", ())],
        more=True,
    ),
    Step(
        "risk",
        "report_risk",
        WORK,
        [
            ("risk_kind", "select", ("violence", "criminal", "self_harm", "mass_incident")),
            ("description", "textarea", ()),
        ],  # fmt: skip
        more=True,
        law="law.med_risk",
    ),
    Step(
        "receipt",
        "correct_receipt",
        REGISTER,
        [("received_at", "datetime", ()), ("reason", "textarea", ())],
        more=True,
    ),
]
STEPS_BY_SERVICE: dict[str, list[Step]] = {"aid": AID_STEPS, "mediation": MEDIATION_STEPS}


def find_step(service: str, key: str) -> Step | None:
    return next((s for s in STEPS_BY_SERVICE.get(service, []) if s.key == key), None)


# ---------------------------------------------------------------- which steps a case offers
def _own_lawyer(case: dict, staff_id: str | None) -> bool:
    return bool(staff_id) and str(case.get("lawyer_id") or "") == str(staff_id)


def _held(case: dict) -> int:
    return sum(1 for x in case.get("sessions") or [] if x.get("status") == "held")


def _return_visited(case: dict) -> bool:
    return any(f.get("kind") == "return_visit" for f in case.get("follow_ups") or [])


def _aid_applies(step: Step, case: dict, staff_id: str | None) -> bool:
    status = case.get("status")
    if step.roles == LAWYER and not _own_lawyer(case, staff_id):
        return False  # only the assigned lawyer acts as the lawyer (aid's ensure_own_lawyer)
    return {
        "application": status == "received",
        "supplement": status == "incomplete",
        "subsidy": not case.get("subsidy"),
        "return-visit": not case.get("return_visit"),
        "archive": all(case.get(k) for k in ("closure", "subsidy", "return_visit")),
        # The receipt moves the clocks counted from it (decision, Art 43; a notice's assignment,
        # Art 36): once those are done, correcting it changes nothing a person could act on.
        "receipt": status in ("received", "incomplete", "under_review", "granted"),
    }.get(step.key, True)


def _mediation_applies(step: Step, case: dict) -> bool:
    parties = case.get("parties") or []
    sessions = case.get("sessions") or []
    confirmation = case.get("confirmation") or {}
    return {
        "consents": any(p.get("consent") == "pending" for p in parties),
        # A mediator already named is changed under 其他操作, not offered as the next step.
        "sessions": bool(case.get("mediator_staff_id")),
        "record": any(x.get("status") == "scheduled" for x in sessions),
        # 人民调解法 Art 22, 27, 28: an agreement comes out of a session that was held.
        "agreement": _held(case) > 0,
        "oral-agreement": _held(case) > 0,
        "judicial-confirmation": bool(confirmation.get("offered")) and not confirmation.get("application"),
        "return-visit": not _return_visited(case),
    }.get(step.key, True)


def offered_steps(service: str, case: dict, roles: list[str] | set[str], staff_id: str | None) -> list[Step]:
    """The step forms this viewer gets on this case: the state allows the step (the service's
    allowed_actions), one of the viewer's roles may do it, and it still applies."""
    allowed = set(case.get("allowed_actions") or [])
    mine = set(roles)
    out = []
    for step in STEPS_BY_SERVICE.get(service, []):
        if step.backend not in allowed or not mine & set(step.roles):
            continue
        applies = _aid_applies(step, case, staff_id) if service == "aid" else _mediation_applies(step, case)
        if applies:
            out.append(step)
    if service == "mediation" and case.get("mediator_staff_id"):
        out = [s if s.key != "mediator" else _more(s) for s in out]
    return out


def _more(step: Step) -> Step:
    return Step(step.key, step.backend, step.roles, step.fields, step.path, True, step.law)


def waiting_hint(service: str, case: dict, steps: list[Step]) -> str | None:
    """An i18n key saying why the next step is not offered yet (or None)."""
    keys = {s.key for s in steps}
    status = case.get("status")
    if service == "mediation":
        if status == "mediating" and _held(case) == 0 and "record" in keys:
            return "cv.hint_hold_session"
        if status in ("accepted", "registered") and not case.get("mediator_staff_id") and "mediator" in keys:
            return "cv.hint_mediator_first"
    if service == "aid" and status == "assigned" and "lawyer-accept" not in keys:
        return "cv.hint_lawyer_accepts"
    if service == "aid" and status == "in_progress" and "close" not in keys:
        return "cv.hint_lawyer_handles"
    return None


# ---------------------------------------------------------------- the source work order
# The case services never close intake's order: 办结 there needs the callback (回拨) that tells the
# citizen the result (intake's closed loop). So a concluded case offers the order's closure on its
# page, with the case's result as the summary; intake says what is still missing, all at once.
AID_CONCLUDED = frozenset({"closed", "archived", "refused", "terminated", "withdrawn"})
ORDER_DONE = frozenset({"closed", "merged"})


def case_concluded(service: str, case: dict) -> bool:
    status = case.get("status")
    return status in AID_CONCLUDED if service == "aid" else status == "closed"


def offers_order_closure(service: str, case: dict, order: dict | None) -> bool:
    """A concluded case whose order the viewer can read and intake still has open."""
    return bool(order) and case_concluded(service, case) and (order or {}).get("status") not in ORDER_DONE


def order_summary(service: str, case: dict, lang: str = "zh") -> str:
    """The result summary proposed for 办结 of the source order: what the case came to."""
    if service == "aid":
        closure = case.get("closure") or {}
        decision = case.get("decision") or {}
        termination = case.get("termination") or {}
        if closure.get("outcome"):
            text = f"{i18n.t('cv.sum_aid_closed', lang)}{closure['outcome']}"
        elif termination:
            text = f"{i18n.t('cv.sum_aid_terminated', lang)}{termination.get('reason') or ''}"
        elif decision.get("outcome") == "refuse":
            text = f"{i18n.t('cv.sum_aid_refused', lang)}{decision.get('reasons') or ''}"
        else:
            text = label_of("astatus", case.get("status"), lang)
        return f"{case.get('number', '')} {text}".strip()
    outcome = case.get("outcome")
    agreement = case.get("agreement") or {}
    text = label_of("moutcome", outcome, lang)
    detail = (
        agreement.get("terms") if outcome in ("agreed_written", "agreed_oral") else case.get("close_reason")
    )
    return f"{case.get('number', '')} {text}：{detail or ''}".strip("：").strip()


# ---------------------------------------------------------------- values as people read them
# Which label family names the codes of a field (the key is the field's name in the case data).
FAMILIES = {
    "category": "f",
    "requested_form": "f",
    "verification": "f",
    "satisfaction": "f",
    "chosen_by": "f",
    "mediator_chosen_by": "f",
    "consent_method": "f",
    "side": "f",
    "exemption": "f",
    "cause": "f",
    "means_test": "meanstest",
    "rule": "arule",
    "dispute_type": "dispute",
    "court_procedure": "courtproc",
    "consent": "consent",
    "sign_method": "sign",
    "form": "agrform",
    "performance": "f",
    "risk_kind": "risk",
    "special_groups": "group",
    "attachments": "f",
    "missing_items": "f",
    "deferred_items": "f",
    "against": "astatus",
    "name": "clockname",
    "route": "route",
    "gender": "gender",
}


def label_of(family: str, code: Any, lang: str = "zh", extra: dict[str, str] | None = None) -> str:
    """A code as its label: the console's own (both languages), else the service's (Chinese),
    else the code itself (never hidden — the i18n test keeps the families complete)."""
    if code is None or code == "":
        return "—"
    key = f"{family}.{code}"
    if key in i18n.M:
        return i18n.t(key, lang)
    if extra and str(code) in extra:
        return extra[str(code)]
    return str(code)


def show(value: Any, lang: str = "zh", family: str | None = None, extra: dict[str, str] | None = None) -> str:
    """Any recorded value as text: None / "" / [] / {} → —, booleans → 是/否, codes → labels,
    lists joined with 、, times in China time."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return i18n.t("cv.yes" if value else "cv.no", lang)
    if isinstance(value, list | tuple):
        parts = [show(v, lang, family, extra) for v in value]
        return "、".join(p for p in parts if p != "—") or "—"
    if isinstance(value, dict):
        kind = value.get("kind")
        if kind is not None:
            return label_of(family or "f", kind, lang, extra)
        return "；".join(f"{v}" for v in value.values() if v not in (None, "", [], {})) or "—"
    if family:
        return label_of(family, value, lang, extra)
    if isinstance(value, str) and _looks_like_time(value):
        from services.console.domain import local_time

        return local_time(value)
    return str(value)


def _looks_like_time(v: str) -> bool:
    if len(v) < 19 or v[10] != "T":
        return False
    try:
        datetime.fromisoformat(v)
    except ValueError:
        return False
    return True


def in_language(text: Any, lang: str = "zh") -> str:
    """A service's "中文 | English" text in the console's language (a plain text as it is)."""
    zh, sep, en = str(text or "").partition(" | ")
    return (en if lang == "en" and sep else zh).strip() or "—"


def lawyer_choice(case: dict, rules: dict) -> bool | None:
    """Whether a named lawyer can be assigned here: aid takes one only as the applicant's choice
    (点援制), where the county allows it. None: the rule book was not available."""
    counties = rules.get("lawyer_choice_counties")
    if counties is None:
        return None
    return str(case.get("county_code") or "") in counties


def clock_state(clock: dict) -> str:
    """met | cancelled | breached | open — of one aid statutory clock."""
    if clock.get("met_at"):
        return "met"
    if clock.get("cancelled_at"):
        return "cancelled"
    if clock.get("breached_at"):
        return "breached"
    return "open"


# ---------------------------------------------------------------- people pickers
def on_duty(staff: dict | None) -> bool:
    """Signed in and not signed out since (dispatch's 签到签退)."""
    if not staff or not staff.get("signed_in_at"):
        return False
    out = staff.get("signed_out_at")
    return not out or str(out) < str(staff["signed_in_at"])


def lawyer_rows(
    lawyers: list[dict], staff: list[dict], *, grave: bool, senior_years: int = 3, q: str = ""
) -> list[dict]:
    """The aid roster of the county with dispatch's duty state and load: active lawyers first,
    on duty, then the lighter load. Art 26: a possible life or death sentence needs ≥ 3 years."""
    by_id = {str(s.get("id")): s for s in staff}
    rows = []
    for lw in lawyers:
        if (
            q
            and q not in (lw.get("name") or "")
            and not (by_id.get(str(lw["id"]), {}).get("code") or "").startswith(q)
        ):
            continue
        s = by_id.get(str(lw["id"]))
        years = lw.get("practice_years")
        junior = grave and (years or 0) < senior_years
        rows.append(
            {
                "id": str(lw["id"]),
                "name": lw.get("name") or "—",
                "code": (s or {}).get("code") or "",
                "firm": lw.get("firm") or "—",
                "years": years,
                "on_duty": on_duty(s),
                "load": (s or {}).get("active_load"),
                "capacity": (s or {}).get("capacity"),
                "usable": bool(lw.get("active", True)) and not junior,
                "why_not": "cv.junior_art26"
                if junior
                else ("cv.inactive" if not lw.get("active", True) else ""),
            }
        )
    rows.sort(key=lambda r: (not r["usable"], not r["on_duty"], r["load"] or 0, r["name"]))
    return rows


def mediator_rows(mediators: list[dict], staff: list[dict], *, q: str = "") -> list[dict]:
    """The county's mediators (mediation's availability) with dispatch's load and staff code."""
    by_id = {str(s.get("id")): s for s in staff}
    rows = []
    for m in mediators:
        s = by_id.get(str(m.get("staff_id")))
        code = (s or {}).get("code") or ""
        if q and q not in (m.get("name") or "") and not code.startswith(q):
            continue
        rows.append(
            {
                "id": str(m["staff_id"]),
                "name": m.get("name") or "—",
                "code": code,
                "role": m.get("role") or "",
                "on_duty": bool(m.get("signed_in")) or on_duty(s),
                "load": (s or {}).get("active_load"),
                "capacity": (s or {}).get("capacity"),
                "usable": bool(m.get("available", True)) and bool(m.get("active", True)),
                "why_not": m.get("unavailable_reason") or "",
            }
        )
    rows.sort(key=lambda r: (not r["usable"], not r["on_duty"], r["load"] or 0, r["name"]))
    return rows
