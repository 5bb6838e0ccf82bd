"""Masking of personal data (PIPL Art 28, 51): phones and resident ID numbers never
appear whole in lists, logs or event payloads."""

from __future__ import annotations

import re
from datetime import date

# 18-digit resident ID (last char may be X) and 15-digit legacy IDs.
_ID_RE = re.compile(r"(?<!\d)(\d{4})\d{10}(\d{3}[\dXx])(?!\d)")
# Mainland mobile numbers: 11 digits starting with 1[3-9].
_MOBILE_RE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_phone(phone: str | None) -> str | None:
    """138****5678; landlines keep area code and last 4 (0355-****1234)."""
    if not phone:
        return phone
    digits = phone.replace("-", "").replace(" ", "")
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    if "-" in phone:
        area, _, number = phone.partition("-")
        return f"{area}-{'*' * max(len(number) - 4, 0)}{number[-4:]}"
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def mask_id_number(id_number: str | None) -> str | None:
    """1404**********1234: region prefix and last 4 only."""
    if not id_number:
        return id_number
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


def mask_text(text: str) -> str:
    """Mask every ID number and mobile number found in free text (log lines, descriptions in events)."""
    if not text:
        return text
    text = _ID_RE.sub(lambda m: m.group(1) + "*" * 10 + m.group(2), text)
    return _MOBILE_RE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def phone_suffix(phone: str | None) -> str | None:
    return phone[-4:] if phone else None


# Strings that are identifiers, not people: UUIDs and hex digests may contain digit runs
# that look like a phone number but are not one.
_OPAQUE_RE = re.compile(
    r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-f]{32,})$"
)


def contains_pii(text: str) -> bool:
    return bool(text) and (bool(_ID_RE.search(text)) or bool(_MOBILE_RE.search(text)))


def scrub(value: object, path: str = "") -> tuple[object, list[str]]:
    """Mask every raw ID or mobile number in a JSON-like value; return it and the paths found."""
    if isinstance(value, str):
        if _OPAQUE_RE.match(value) or not contains_pii(value):
            return value, []
        return mask_text(value), [path or "$"]
    if isinstance(value, dict):
        out: dict[str, object] = {}
        found: list[str] = []
        for k, v in value.items():
            out[k], hits = scrub(v, f"{path}.{k}" if path else str(k))
            found += hits
        return out, found
    if isinstance(value, list | tuple):
        items, found = [], []
        for i, v in enumerate(value):
            item, hits = scrub(v, f"{path}[{i}]")
            items.append(item)
            found += hits
        return items, found
    return value, []


def phone_key(phone: str | None) -> str | None:
    """A phone number reduced to what identifies it — digits only, without +86 / 0086 — so
    "0355-2021234", "0355 2021234" and "+86 138 3456 7890" / "13834567890" give one key in
    every service. Blind-index it (libs.common.crypto) before storing or sending it."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits or None


def id_particulars(id_number: str | None, on: date) -> tuple[str, int] | None:
    """性别 and 年龄 from an 18-digit resident ID (GB 11643: birth date in digits 7–14, the 17th
    odd for a man) — what a 调解协议书 states of each party (人民调解法 Art 29) without printing
    the number itself. None for anything that is not such a number."""
    s = (id_number or "").strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", s):
        return None
    try:
        born = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return None
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return ("男" if int(s[16]) % 2 else "女"), age
