"""What the supervisor's exports hold (台账): columns with Chinese (or English) headers, every code
as its label, China-time dates, typed cells for Excel — pure; api_supervisor streams the rows.

A report sent upward is read by people, not programs: `status = in_progress` and a UTC date
(the day differs from China time after 16:00 UTC) were the two complaints (issue #16)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from libs.common import regions
from services.console import domain, i18n


@dataclass(frozen=True)
class Column:
    key: str  # the i18n key of the header
    value: Callable[[dict, str], Any]  # (row, lang) → str | int | datetime | date | None
    width: int  # Excel column width, in characters (a CJK character counts about 2)
    kind: str = "text"  # text | int | datetime | date


def _label(kind: str, field_: str) -> Callable[[dict, str], Any]:
    return lambda r, lang: i18n.label(kind, r.get(field_), lang)


def _text(field_: str) -> Callable[[dict, str], Any]:
    return lambda r, lang: r.get(field_) or ""


def _when(field_: str) -> Callable[[dict, str], Any]:
    def value(r: dict, lang: str) -> datetime | None:
        d = domain._dt(r.get(field_))
        # Excel has no time zones: the cell holds China wall-clock time, as the screens show it.
        return d.astimezone(domain.CHINA_TZ).replace(tzinfo=None) if d else None

    return value


def _day(field_: str) -> Callable[[dict, str], Any]:
    def value(r: dict, lang: str) -> date | None:
        v = r.get(field_)
        if isinstance(v, date):
            return v
        try:
            return date.fromisoformat(v) if v else None
        except ValueError:
            return None

    return value


def _county(r: dict, lang: str) -> str:
    code = r.get("county_code") or regions.county_of(r.get("region_code") or "") or ""
    return domain.region_label(code)


def _groups(r: dict, lang: str) -> str:
    return "、".join(i18n.label("group", g, lang) for g in r.get("special_groups") or [])


def _yes_no(field_: str) -> Callable[[dict, str], Any]:
    return lambda r, lang: i18n.t("xp.yes" if r.get(field_) else "xp.no", lang)


def _rating(r: dict, lang: str) -> int | None:
    v = r.get("rating_score")
    if v is None and isinstance(r.get("rating"), dict):
        v = r["rating"].get("score")
    return int(v) if isinstance(v, int | float) else None


COLUMNS: dict[str, tuple[Column, ...]] = {
    "orders": (
        Column("xp.number", _text("number"), 20),
        Column("xp.status", _label("status", "status"), 10),
        Column("xp.channel", _label("channel", "channel"), 11),
        Column("xp.service_type", _label("type", "service_type"), 11),
        Column("xp.domain", _label("domain", "domain"), 11),
        Column("xp.urgency", _label("urgency", "urgency"), 8),
        Column("xp.county", _county, 10),
        Column("xp.region", lambda r, lang: domain.region_label(r.get("region_code")), 24),
        Column("xp.requester", _text("requester_name"), 10),
        Column("xp.phone", _text("requester_phone_masked"), 14),
        Column("xp.groups", _groups, 12),
        Column("xp.created_at", _when("created_at"), 17, "datetime"),
        Column("xp.due_at", _when("due_at"), 17, "datetime"),
        Column("xp.closed_at", _when("closed_at"), 17, "datetime"),
        Column("xp.overdue", _yes_no("overdue"), 8),
        Column("xp.urges", lambda r, lang: int(r.get("urge_count") or 0), 8, "int"),
        Column("xp.rating", _rating, 8, "int"),
    ),
    "aid_cases": (
        Column("xp.case_number", _text("number"), 20),
        Column("xp.status", _label("status", "status"), 12),
        Column("xp.county", _county, 10),
        Column("xp.applicant", _text("applicant_name"), 10),
        Column("xp.phone", _text("phone_masked"), 14),
        Column("xp.groups", _groups, 12),
        Column("xp.handler", lambda r, lang: r.get("staff_name") or "", 10),
        Column(
            "xp.lawyer",
            lambda r, lang: " · ".join(x for x in (r.get("lawyer_name"), r.get("lawyer_firm")) if x),
            24,
        ),
        Column("xp.received_on", _day("received_on"), 12, "date"),
        Column("xp.opened_at", _when("opened_at"), 17, "datetime"),
        Column("xp.archived_at", _when("archived_at"), 17, "datetime"),
    ),
    "mediation_cases": (
        Column("xp.case_number", _text("number"), 20),
        Column("xp.status", _label("status", "status"), 12),
        Column("xp.outcome", _label("outcome", "outcome"), 12),
        Column("xp.dispute_type", _label("dispute", "dispute_type"), 12),
        Column("xp.county", _county, 10),
        Column("xp.mediator", lambda r, lang: r.get("staff_name") or "", 10),
        Column("xp.risk", _yes_no("risk_flag"), 8),
        Column("xp.opened_at", _when("opened_at"), 17, "datetime"),
        Column("xp.due_date", _day("due_date"), 12, "date"),
        Column("xp.concluded_at", _when("concluded_at"), 17, "datetime"),
    ),
}
DATASETS = tuple(COLUMNS)
EXCEL_FORMATS = {"datetime": "yyyy-mm-dd hh:mm", "date": "yyyy-mm-dd"}


def headers(dataset: str, lang: str) -> list[str]:
    return [i18n.t(c.key, lang) for c in COLUMNS[dataset]]


def cells(dataset: str, row: dict, lang: str) -> list[Any]:
    """One row's typed values (for Excel); text is guarded against formula injection."""
    return [_guard(c.value(row, lang)) for c in COLUMNS[dataset]]


def csv_line(dataset: str, row: dict, lang: str) -> list[str]:
    out = []
    for v in cells(dataset, row, lang):
        if isinstance(v, datetime):
            out.append(v.strftime("%Y-%m-%d %H:%M"))
        elif isinstance(v, date):
            out.append(v.isoformat())
        else:
            out.append("" if v is None else str(v))
    return out


def _guard(v: Any) -> Any:
    """A cell never starts a formula (=, +, -, @): spreadsheet injection from a citizen's name."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") and not _number(v):
        return "'" + v
    return v


def _number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True
