"""Pure rules of the aid service (deepened by its own issue)."""

from __future__ import annotations

from datetime import datetime

from libs.common.clock import CHINA_TZ

SERVICE_TYPE = "legal_aid"


def opens_case(service_type: str) -> bool:
    """Only orders of this service's type become cases here."""
    return service_type == SERVICE_TYPE


def format_case_number(opened_at: datetime, county_code: str, seq: int) -> str:
    return f"FY{county_code}{opened_at.astimezone(CHINA_TZ):%Y}{seq % 100_000:05d}"
