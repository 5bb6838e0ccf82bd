"""The printable documents of a legal-aid case, rendered from Jinja2 templates, personal data
masked: 一次性告知书 (materials to supply, Art 43), 给予 / 不予法律援助决定书 (Art 43, with the
basis or the reasons and the remedy of Art 49), and 指派通知书 (to the lawyer's firm, Art 43's
three days). The office is named by its county, never by the software."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from libs.common import regions
from libs.common.bilingual import zh_of
from libs.common.clock import CHINA_TZ
from libs.common.problems import Problem
from services.aid import domain
from services.aid.models import Case

KINDS = ("materials", "decision", "assignment")

# 法律援助法 Art 22: the forms of legal aid, as the documents name them.
FORM_NAMES = {
    "consultation": "法律咨询",
    "document_drafting": "代拟法律文书",
    "criminal_defence": "刑事辩护",
    "criminal_agency": "刑事代理",
    "civil_litigation_agency": "民事案件诉讼代理",
    "administrative_litigation_agency": "行政案件诉讼代理",
    "state_compensation_agency": "国家赔偿案件代理",
    "non_litigation_agency": "非诉讼代理",
    "arbitration_agency": "劳动争议调解与仲裁代理",
    "duty_lawyer": "值班律师法律帮助",
}


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),  # applicant-supplied text must never become markup
    )
    env.filters["cn_date"] = cn_date
    return env


def cn_date(v: Any) -> str:
    """2026年3月2日 — dates on paper are China dates."""
    if isinstance(v, str) and v:
        try:
            v = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            try:
                v = date.fromisoformat(v)
            except ValueError:
                return v
    if isinstance(v, datetime):
        v = (v if v.tzinfo else v.replace(tzinfo=CHINA_TZ)).astimezone(CHINA_TZ).date()
    return f"{v.year}年{v.month}月{v.day}日" if isinstance(v, date) else ""


def office_name(county_code: str | None) -> str:
    county = regions.lookup(county_code or "")
    return f"{county.name}法律援助中心" if county else "法律援助中心"


def _missing(kind: str, case: Case) -> list[str]:
    """Why this document cannot be issued yet (empty: it can)."""
    if kind == "materials" and not case.missing_items:
        return ["本案没有需要补充的材料"]
    if kind == "decision" and not case.decision:
        return ["尚未作出是否给予法律援助的决定"]
    if kind == "assignment" and not case.lawyer_name:
        return ["尚未指派律师"]
    return []


def render(kind: str, case: Case, *, now: datetime) -> str:
    if kind not in KINDS:
        raise Problem(404, "没有这种文书", "no such document")
    why_not = _missing(kind, case)
    if why_not:
        raise Problem(409, "；".join(why_not), "the document cannot be issued yet")
    decision = case.decision or {}
    ctx = {
        "case": case,
        "office": office_name(case.county_code),
        "applicant": case.applicant or {},
        "matter": case.matter or {},
        "form_name": FORM_NAMES.get(case.requested_form or "", case.requested_form or ""),
        "missing": [domain.ATTACHMENT_NAMES.get(m, m) for m in case.missing_items or []],
        "decision": decision,
        "basis": [zh_of(b) for b in decision.get("basis") or []],
        "assignment": case.assignment or {},
        "issued_on": now,
    }
    return _env().get_template(f"aid_{kind}.html").render(**ctx)
