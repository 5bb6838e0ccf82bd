"""Pure console rules: home screen per role, duplicate warning, dashboard figures, ranking, export rows.

No I/O here — everything is computed from the plain dicts the services' list endpoints return,
so the figures are unit-tested without servers. Field names are read defensively (`.get`)
because the console must keep working while the services grow their payloads.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from libs.common import regions
from libs.common.clock import CHINA_TZ

CHANNELS = ("hotline", "web", "counter", "external")
SERVICE_TYPES = (
    "consultation",
    "legal_aid",
    "mediation",
    "notarization",
    "judicial_appraisal",
    "lawyer_referral",
    "complaint",
    "administrative_reconsideration",
    "community_correction",
    "resettlement",
    "legal_publicity",
    "suggestion",
)
DOMAINS = (
    "labor",
    "marriage_family",
    "inheritance",
    "neighbor",
    "land",
    "housing",
    "contract",
    "consumer",
    "traffic",
    "medical",
    "personal_injury",
    "social_security",
    "criminal",
    "administrative",
    "company",
    "other",
)
SPECIAL_GROUPS = (
    "elderly",
    "disabled",
    "minor",
    "women",
    "migrant_worker",
    "veteran",
    "low_income",
    "military_family",
)
URGENCIES = ("normal", "urgent", "critical")
# Intake's statuses of a work order (services/intake/domain.py STATUSES), for the list's filter.
ORDER_STATUSES = (
    "received",
    "offered",
    "rerouting",
    "escalated",
    "assigned",
    "in_progress",
    "closed",
    "merged",
    "cancelled",
)
TERMINAL_ORDER_STATUSES = ("closed", "merged", "cancelled")
# Who may move an order to another county (intake's access.py: a supervisor of its jurisdiction
# or its handler — intake checks which one the caller is).
COUNTY_TRANSFER_ROLES = ("supervisor", "admin", "counter_staff", "lawyer", "mediator", "aid_officer")
REJECT_REASONS = ("conflict", "overload", "out_of_scope")
CALLBACK_OUTCOMES = ("reached", "no_answer", "busy", "wrong_number", "refused")
DONE_STATUSES = frozenset({"closed", "answered", "resolved", "completed", "archived"})
CANCELLED_STATUSES = frozenset({"merged", "cancelled", "withdrawn"})

HOME_BY_ROLE = (  # first match wins: a supervisor who is also an operator lands on the dashboard
    ("supervisor", "/supervisor"),
    ("admin", "/supervisor"),
    ("operator", "/operator"),
    ("counter_staff", "/counter"),
    ("aid_officer", "/cases"),
    ("lawyer", "/cases"),
    ("mediator", "/cases"),
)
SCREENS = {  # screen → roles that may open it (UX only: every service still checks the token itself)
    "operator": ("operator", "supervisor", "admin", "counter_staff"),
    "counter": ("counter_staff", "aid_officer", "lawyer", "mediator", "supervisor", "admin"),
    "cases": ("aid_officer", "lawyer", "mediator", "supervisor", "admin"),
    "supervisor": ("supervisor", "admin"),
    "orders": ("operator", "counter_staff", "aid_officer", "lawyer", "mediator", "supervisor", "admin"),
    # 人民调解法 Art 25: risk reports for the police, worked by the county supervisor (or the mediator).
    "liaison": ("supervisor", "mediator", "admin"),
    "extensions": ("supervisor", "admin"),  # reply extensions awaiting approval
    # 法律知识库: which articles answer calls, which questions find none
    "knowledge": ("supervisor", "admin"),
    "accounts": ("admin",),
}
RISK_KINDS = ("violence", "criminal", "self_harm", "mass_incident")
WEBHOOK_STATES = ("not_configured", "pending", "retrying", "delivered")
CLOCK_NAMES = ("transfer", "reply", "max")
# Roles an admin can give an account (checkboxes), in the order people think of them.
ACCOUNT_ROLES = ("operator", "counter_staff", "aid_officer", "lawyer", "mediator", "supervisor", "admin")
# dispatch's staff roles (staffrole.* labels).
STAFF_ROLES = (
    "operator",
    "counter_staff",
    "legal_worker",
    "lawyer",
    "mediator",
    "aid_officer",
    "notary",
    "volunteer",
)


def home_for(roles: list[str]) -> str:
    for role, path in HOME_BY_ROLE:
        if role in roles:
            return path
    return "/login"


def screens_for(roles: list[str]) -> list[str]:
    return [s for s, allowed in SCREENS.items() if set(allowed) & set(roles)]


def case_services_for(roles: list[str]) -> list[str]:
    out = []
    if set(roles) & {"aid_officer", "lawyer", "supervisor", "admin"}:
        out.append("aid")
    if set(roles) & {"mediator", "supervisor", "admin"}:
        out.append("mediation")
    return out


# ---- the operator's call -----------------------------------------------------------------------
def is_open(order: dict) -> bool:
    status = order.get("status", "")
    return status not in DONE_STATUSES and status not in CANCELLED_STATUSES


def duplicate_warning(orders: list[dict], service_type: str | None = None) -> list[dict]:
    """Open orders of the same caller that the new call probably repeats (并单 candidates).

    Same service type is the strong signal; with no type chosen yet every open order counts,
    because a repeat caller is far more often urging (催办) than raising something new.
    """
    open_orders = [o for o in orders if is_open(o)]
    if service_type:
        same = [o for o in open_orders if o.get("service_type") == service_type]
        return same or []
    return open_orders


def filing_channel(roles: list[str]) -> str:
    """The channel of an order filed on the intake screen: a counter clerk registers walk-ins
    (窗口), which must count as such in the figures; the hotline's operators — and supervisors
    or admins standing in for them — take calls."""
    return "counter" if "counter_staff" in roles and "operator" not in roles else "hotline"


def counter_details(user: dict[str, Any]) -> dict[str, str] | None:
    """Intake's `counter` block for a clerk: the window (service point) and the clerk."""
    point, staff = user.get("service_point_id"), user.get("staff_id")
    return {"service_point_id": point, "staff_id": staff} if point and staff else None


# Intake's field path → (the form's input, its label): an error goes beside its field, named by
# the label the operator sees — not `requester.phone` at the bottom of the screen (issue #16).
ORDER_FORM_FIELDS = {
    "requester.name": ("name", "op.name"),
    "requester.phone": ("phone", "op.phone"),
    "requester.id_number": ("id_number", "op.id_number"),
    "region_code": ("county", "op.region"),
    "description": ("description", "op.description"),
    "service_type": ("service_type", "op.service_type"),
    "domain": ("domain", "op.domain"),
    "special_groups": ("special_groups", "op.special_groups"),
    "urgency": ("urgency", "op.urgency"),
    "hotline.answer_summary": ("answer_summary", "op.answer_summary"),
}
ORDER_FORM_INPUTS = tuple(dict.fromkeys(v[0] for v in ORDER_FORM_FIELDS.values()))


def place_field_errors(
    errors: list[tuple[str, str]],
) -> tuple[dict[str, str], list[tuple[str | None, str, str]]]:
    """Intake's field errors → ({input: message} shown beside the inputs, [(label key, field, message)]
    for the summary). A path names its field or something inside it (`special_groups.0`)."""
    inline: dict[str, str] = {}
    summary: list[tuple[str | None, str, str]] = []
    for path, msg in errors:
        bare = path.removeprefix("body.")
        key = next((k for k in ORDER_FORM_FIELDS if bare == k or bare.startswith(k + ".")), None)
        if key is None:
            summary.append((None, bare, msg))
            continue
        name, label = ORDER_FORM_FIELDS[key]
        inline[name] = f"{inline[name]}；{msg}" if name in inline else msg
        summary.append((label, bare, msg))
    return inline, summary


def payload_from_form(
    form: dict[str, Any],
    *,
    channel: str = "hotline",
    operator_id: str = "",
    now: datetime | None = None,
    counter: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The intake request body from the operator's form; optional fields only when set.

    A hotline order carries its call (intake's `hotline` block: call id, operator, when the call
    started) so "answered on the call" closes it on the spot."""
    region = form.get("village") or form.get("township") or form.get("county") or ""
    body: dict[str, Any] = {
        "channel": channel,
        "requester": {"name": (form.get("name") or "").strip(), "phone": (form.get("phone") or "").strip()},
        "region_code": region,
        "service_type": form.get("service_type") or "consultation",
        "description": (form.get("description") or "").strip(),
    }
    id_number = (form.get("id_number") or "").strip().upper()
    if id_number:
        body["requester"]["id_number"] = id_number
    if form.get("merge_into"):
        body["urge_of"] = form["merge_into"]  # 并入此单: the operator's word that it is the same matter
    if form.get("domain"):
        body["domain"] = form["domain"]
    groups = [g for g in form.get("special_groups", []) if g in SPECIAL_GROUPS]
    if groups:
        body["special_groups"] = groups
    if form.get("urgency") and form["urgency"] != "normal":
        body["urgency"] = form["urgency"]
    if channel == "hotline" and form.get("call_id") and operator_id:
        started = _dt(form.get("call_started_at")) or now or datetime.now(CHINA_TZ)
        hotline: dict[str, Any] = {
            "call_id": form["call_id"],
            "operator_id": operator_id,
            "call_started_at": started.isoformat(),
        }
        if form.get("answered_on_call"):
            hotline["answered_on_call"] = True
            hotline["answer_summary"] = (form.get("answer_summary") or "").strip()
            if form.get("knowledge_article_id"):  # the knowledge-base article read out (用此条当场解答)
                hotline["knowledge_article_id"] = form["knowledge_article_id"]
        body["hotline"] = hotline
    if channel == "counter" and counter:
        body["counter"] = counter
    return body


def order_list_params(filters: dict[str, str]) -> dict[str, str]:
    """The list screen's filters as intake's `GET /v1/work-orders` query: `region` is a code prefix,
    and a day picked in a date field means that whole day in China time (created_to is exclusive)."""
    out = {k: v for k, v in filters.items() if k != "region_prefix"}
    if filters.get("region_prefix"):
        out["region"] = filters["region_prefix"]
    for key, end in (("created_from", False), ("created_to", True)):
        v = out.get(key, "")
        if len(v) == 10:
            try:
                day = date.fromisoformat(v)
            except ValueError:
                continue  # intake names the field in its 422
            out[key] = day_bounds(day)[1 if end else 0]
    return out


def region_options(parent: str | None) -> list[tuple[str, str]]:
    kids = regions.children(parent) if parent else regions.counties()
    return [(r.code, r.name) for r in kids]


def jurisdiction_name(code: str | None) -> str:
    """A jurisdiction prefix by name: "1404" → 长治市, "140430" → 沁县."""
    if not code:
        return ""
    r = regions.lookup(code + {2: "0000", 4: "00"}.get(len(code), ""))
    return r.name if r else code


def jurisdiction_options(region: str) -> list[tuple[str, str]]:
    """The jurisdictions an admin may give an account: their own, and below it the city and
    its counties (a province or city admin) or the townships (a county admin)."""
    name = jurisdiction_name
    own = region or "14"
    out = [(own, name(own))]
    if len(own) <= 2:
        out.append(("1404", name("1404")))
    if len(own) <= 4:
        out += [(c.code, f"{name('1404')} · {c.name}") for c in regions.counties() if c.code.startswith(own)]
    elif len(own) == 6:
        out += [(t.code, f"{name(own)} · {t.name}") for t in regions.children(own)]
    return out


def region_label(code: str | None) -> str:
    if not code:
        return ""
    names = [r.name for r in reversed(regions.chain(code)) if r.level in ("county", "township", "village")]
    return " / ".join(names) or code


# ---- dashboard ---------------------------------------------------------------------------------
def _dt(v: Any) -> datetime | None:
    if isinstance(v, datetime):
        return v if v.tzinfo else v.replace(tzinfo=CHINA_TZ)
    if isinstance(v, str) and v:
        try:
            d = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            return None
        return d if d.tzinfo else d.replace(tzinfo=CHINA_TZ)
    return None


def case_counts(cases: list[dict]) -> dict[str, int]:
    return dict(Counter(c.get("status", "?") for c in cases).most_common())


def reconcile_panel(body: dict) -> dict:
    """Intake's reconciliation figures (GET /v1/pipeline/reconciliation) as the dashboard shows
    them: whole minutes, zeros rather than gaps, and only the re-sent orders still waiting."""
    seconds = body.get("oldest_waiting_seconds") or 0
    recent = [r for r in body.get("recent") or [] if not r.get("acknowledged_at")]
    return {
        "awaiting": int(body.get("awaiting_ack") or 0),
        "oldest_minutes": int(seconds) // 60,
        "reemitted": int(body.get("reemitted_last_24h") or 0),
        "reemitted_total": int(body.get("reemitted_total") or 0),
        "waiting": recent[:5],
    }


def day_bounds(day: date) -> tuple[str, str]:
    start = datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ)
    return start.isoformat(), (start + timedelta(days=1)).isoformat()


def local_time(v: Any) -> str:
    """Timestamps are shown in China time (services speak UTC ISO-8601)."""
    d = _dt(v)
    return d.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if d else ("" if v is None else str(v))


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def can_transfer_county(order: dict | None, roles: list[str]) -> bool:
    """Offer 跨县转办 only on an open order, to a role that may do it."""
    return (
        order is not None
        and bool(order)
        and order.get("status") not in TERMINAL_ORDER_STATUSES
        and bool(set(roles) & set(COUNTY_TRANSFER_ROLES))
    )


def other_counties(order: dict | None) -> list[tuple[str, str]]:
    """The counties an order can be moved to: every one but its own."""
    own = (order or {}).get("county_code")
    return [(code, name) for code, name in region_options(None) if code != own]
