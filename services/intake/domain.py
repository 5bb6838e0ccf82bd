"""Intake's pure rules: validation of what a citizen gives us, order numbers, and how
downstream events read on the citizen-visible timeline. No I/O."""

from __future__ import annotations

import re
from datetime import datetime

from libs.common import regions
from libs.common.clock import CHINA_TZ

CHANNELS = ("web", "hotline", "counter", "external")
SERVICE_TYPES = {
    "consultation": "法律咨询",
    "legal_aid": "法律援助",
    "mediation": "人民调解",
    "notarization": "公证",
    "judicial_appraisal": "司法鉴定",
    "lawyer_referral": "律师服务",
    "complaint": "投诉",
    "administrative_reconsideration": "行政复议",
    "community_correction": "社区矫正",
    "resettlement": "安置帮教",
    "legal_publicity": "普法",
    "suggestion": "建议",
}

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def normalise_phone(raw: str) -> str:
    """Digits only for mobiles (+86 / 0086 stripped); landlines keep `area-number`.

    Raises ValueError("中文 | English") naming what is wrong."""
    s = re.sub(r"[\s()（）]", "", raw or "")
    s = re.sub(r"^(\+86|0086)-?", "", s)
    if _MOBILE.match(s):
        return s
    if _LANDLINE.match(s):
        digits = s.replace("-", "")
        area_len = 3 if digits[1] in "12" else 4  # 010, 02x are 3-digit area codes
        return f"{digits[:area_len]}-{digits[area_len:]}"
    raise ValueError(
        "电话号码格式不正确：手机号为 1 开头的 11 位数字，座机请带区号（如 0355-2021234） | "
        "invalid phone: an 11-digit mobile starting with 1, or a landline with area code (e.g. 0355-2021234)"
    )


def resolve_region(code: str) -> regions.Region:
    region = regions.lookup(code)
    if region is None or region.level not in ("county", "township", "village"):
        raise ValueError(
            f"行政区划代码 {code} 不在服务网络内，请选择县（区）、乡镇（街道）或村（社区） | "
            f"region code {code} is not in the service network; choose a county, township or village"
        )
    return region


def format_number(created_at: datetime, seq: int) -> str:
    """Readable on the phone: LW + local date + 6-digit sequence, e.g. LW20261124000123."""
    return f"LW{created_at.astimezone(CHINA_TZ):%Y%m%d}{seq % 1_000_000:06d}"


# How downstream events show on the citizen's timeline and move the order's status.
STATUS_BY_EVENT = {
    "cn.lawline.dispatch.offered.v1": "offered",
    "cn.lawline.dispatch.assigned.v1": "assigned",
    "cn.lawline.dispatch.escalated.v1": "escalated",
    "cn.lawline.aid.case_opened.v1": "in_progress",
    "cn.lawline.mediation.case_opened.v1": "in_progress",
}
# Never move an order backwards: later stages win over late-arriving earlier events.
STATUS_RANK = {"received": 0, "offered": 1, "escalated": 1, "assigned": 2, "in_progress": 3, "closed": 9}


def next_status(current: str, event_type: str) -> str:
    proposed = STATUS_BY_EVENT.get(event_type)
    if proposed is None or STATUS_RANK.get(proposed, 0) < STATUS_RANK.get(current, 0):
        return current
    return proposed


def timeline_text(event_type: str, data: dict) -> tuple[str, str]:
    """(kind, citizen-facing Chinese text) — never a staff member's phone or personal detail."""
    if event_type.endswith("dispatch.offered.v1"):
        return "offered", f"已分派至{data.get('service_point_name', '服务点')}，等待工作人员接单"
    if event_type.endswith("dispatch.assigned.v1"):
        return "assigned", f"{data.get('service_point_name', '服务点')}工作人员已接单，将尽快与您联系"
    if event_type.endswith("dispatch.escalated.v1"):
        return "escalated", "已提交上级督办"
    if event_type.endswith("aid.case_opened.v1"):
        return "aid_case_opened", f"法律援助申请已登记，案件编号 {data.get('case_number')}"
    if event_type.endswith("mediation.case_opened.v1"):
        return "mediation_case_opened", f"人民调解案件已登记，案件编号 {data.get('case_number')}"
    return event_type.rsplit(".", 2)[-2], "办理进展更新"
