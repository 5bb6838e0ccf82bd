"""What a citizen gives us, checked and normalised: phones, resident ID numbers, region
codes and the fixed taxonomies. Pure functions, no I/O. Every error is a
Text("中文", "English").error() (libs.common.bilingual), which the problem handler turns into a field message."""

from __future__ import annotations

import re
from datetime import date

from libs.common import regions
from libs.common import special_groups as groups
from libs.common.bilingual import Text

CHANNELS = ("web", "hotline", "counter", "external", "open311")
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
# Other systems' spellings of our service types (12345 exports, the sample data set).
SERVICE_TYPE_ALIASES = {"admin_reconsideration": "administrative_reconsideration"}
DOMAINS = {
    "labor": "劳动争议",
    "marriage_family": "婚姻家庭",
    "inheritance": "继承",
    "neighbor": "邻里纠纷",
    "land": "土地林权",
    "housing": "房产物业",
    "contract": "合同债务",
    "consumer": "消费维权",
    "traffic": "交通事故",
    "medical": "医疗纠纷",
    "personal_injury": "人身损害",
    "social_security": "社会保障",
    "criminal": "刑事",
    "administrative": "行政",
    "company": "公司商事",
    "other": "其他",
}
# 四优先 green channel (DOMAIN.md "Special groups"), shared with legal aid.
SPECIAL_GROUPS = groups.SPECIAL_GROUPS
URGENCIES = {"normal": "一般", "urgent": "紧急", "critical": "特急"}
URGENCY_RANK = {"normal": 0, "urgent": 1, "critical": 2}
EXTERNAL_SOURCES = ("12345", "court", "police", "procuratorate", "petition", "government", "other")

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_ID18 = re.compile(r"^\d{17}[\dX]$")
# ISO 7064 MOD 11-2 as used by GB 11643-1999.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# First two digits of GB/T 2260 province-level codes.
_PROVINCES = {
    *"11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65".split(),
    "71",
    "81",
    "82",
}


def normalise_phone(raw: str) -> str:
    """Digits only for mobiles (+86 / 0086 stripped); landlines keep `area-number`."""
    s = re.sub(r"[\s()（）]", "", raw or "")
    s = re.sub(r"^(\+86|0086)-?", "", s)
    if _MOBILE.match(s):
        return s
    if _LANDLINE.match(s):
        digits = s.replace("-", "")
        area_len = 3 if digits[1] in "12" else 4  # 010, 02x are 3-digit area codes
        return f"{digits[:area_len]}-{digits[area_len:]}"
    raise Text(
        "电话号码格式不正确：手机号为 1 开头的 11 位数字，座机请带区号（如 0355-2021234）",
        "invalid phone: an 11-digit mobile starting with 1, or a landline with area code (e.g. 0355-2021234)",
    ).error()


def id_check_digit(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def normalise_id_number(raw: str, *, today: date | None = None) -> str:
    """18-digit resident ID (GB 11643): region part, birth date, check digit."""
    s = re.sub(r"\s", "", raw or "").upper()
    if not _ID18.match(s):
        raise Text(
            "身份证号应为 18 位，前 17 位为数字，最后一位为数字或 X",
            "resident ID must be 18 characters: 17 digits then a digit or X",
        ).error()
    if s[:2] not in _PROVINCES:
        raise Text(
            f"身份证号前两位 {s[:2]} 不是有效的省级行政区划代码",
            f"the first two digits {s[:2]} are not a province code",
        ).error()
    try:
        born = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        born = None
    today = today or date.today()
    if born is None or born > today or born.year < 1900:
        raise Text(
            f"身份证号中的出生日期 {s[6:14]} 无效", f"the birth date {s[6:14]} in the ID number is not valid"
        ).error()
    if id_check_digit(s[:17]) != s[17]:
        raise Text(
            "身份证号校验位不符，请核对是否抄错",
            "the ID number's check digit does not match (ISO 7064 MOD 11-2): please re-check it",
        ).error()
    return s


def birth_date(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def age_on(id_number: str, today: date) -> int:
    b = birth_date(id_number)
    return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


def resolve_region(code: str) -> regions.Region:
    region = regions.lookup((code or "").strip())
    if region is None or region.level not in ("county", "township", "village"):
        raise Text(
            f"行政区划代码 {code} 不在服务网络内，请选择县（区）、乡镇（街道）或村（社区）",
            f"region code {code} is not in the service network; choose a county, township or village",
        ).error()
    return region


def region_path(code: str) -> dict[str, str | None]:
    """village → township → county codes of one region (None where the level is above it)."""
    levels = {r.level: r.code for r in regions.chain(code)}
    return {k: levels.get(k) for k in ("village", "township", "county")}


def service_type(value: str) -> str:
    v = SERVICE_TYPE_ALIASES.get(value, value)
    if v not in SERVICE_TYPES:
        raise Text(
            f"服务类型无效，可选：{'、'.join(SERVICE_TYPES)}",
            f"unknown service type; expected one of: {', '.join(SERVICE_TYPES)}",
        ).error()
    return v


def domain(value: str) -> str:
    if value not in DOMAINS:
        raise Text(
            f"法律领域无效，可选：{'、'.join(DOMAINS)}",
            f"unknown legal domain; expected one of: {', '.join(DOMAINS)}",
        ).error()
    return value


def special_groups(values: list[str]) -> list[str]:
    groups.check_known(values)
    return sorted(set(values))
