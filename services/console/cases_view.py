"""Pure view logic of the case screens (legal aid, people's mediation): which step forms a case
offers — by its state (the service's own `allowed_actions`), the viewer's roles (the services'
access policies) and what is already recorded — and how recorded values read (codes as labels,
booleans as 是/否, nothing as —). No I/O: unit-tested without servers.

The services stay the judges: a form shown here can still be refused (409/422/403), and that
answer is shown in the form. This module only keeps a person from being offered a step that
cannot apply now — 登记申请 on a lawyer's page, 签署 before an agreement was drafted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from libs.common.bilingual import Text
from services.console import i18n
from services.console.cases_steps import (  # noqa: F401 - the step catalogue, re-exported
    LAWYER,
    MULTI_KINDS,
    STEPS_BY_SERVICE,
    Field,
    Step,
    find_step,
)


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
    return Text.parse(text or "").pick(lang).strip() or "—"


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
