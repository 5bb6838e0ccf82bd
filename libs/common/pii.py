"""Masking of personal data (PIPL Art 28, 51): phones, resident ID numbers, bank cards and
e-mail addresses never appear whole in lists, logs or event payloads — in free text too, as
callers dictate them (with spaces, hyphens or dots between the groups)."""

from __future__ import annotations

import re
from datetime import date

# Callers dictate numbers in groups, and operators type them as heard: "136 2222 3333",
# "136-2222-3333", "140430 19650215 0024". A separator is one space, hyphen or dot between
# the groups a person would pause at; anything looser would start eating dates and amounts.
_SEP = r"[ \-.]?"
# 18-digit resident ID (GB 11643: 6-digit region, 8-digit birth date, 3-digit order, check
# char that may be X) and 15-digit legacy IDs; grouped 6-8-4 when dictated.
_ID_RE = re.compile(
    rf"(?<!\d)(?:\d{{6}}{_SEP}\d{{8}}{_SEP}\d{{3}}[\dXx]|\d{{6}}{_SEP}\d{{6}}{_SEP}\d{{3}})(?![\dXx])"
)
# Mainland mobile numbers: 11 digits starting with 1[3-9], grouped 3-4-4, maybe +86 / 0086.
_MOBILE_RE = re.compile(rf"(?<![\d+])(?:(?:\+|00)86[ \-]?)?(1[3-9]\d){_SEP}(\d{{4}}){_SEP}(\d{{4}})(?!\d)")
# Landlines: a 3–4 digit area code starting 0[1-9] (0355 长治, 010 北京), then 7–8 digits;
# "(0355)2021234" and "0355-2021234-801" (extension) too.
_LANDLINE_RE = re.compile(
    r"(?<![\d.])\(?(0[1-9]\d{1,2})\)?[ \-]?(\d{3,4})[ \-]?(\d{4})(?:-\d{1,5})?(?![\d.])"
)
# Bank cards (UnionPay: 16–19 digits, dictated in groups of four).
_CARD_RE = re.compile(r"(?<!\d)(?:\d{4}[ \-]?){3}\d{4}(?:[ \-]?\d{1,3})?(?!\d)")
_EMAIL_RE = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


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


def _digits(dictated: str) -> str:
    return re.sub(r"[ \-.]", "", dictated)


def mask_text(text: str) -> str:
    """Mask every personal number and address found in free text (log lines, descriptions in
    events): resident IDs, mobiles, landlines and bank cards keep only what a person needs to
    tell them apart (region prefix / last 4), e-mail addresses their first letter and domain.
    IDs go first: an 18-digit ID would otherwise read as a bank card."""
    if not text:
        return text
    text = _ID_RE.sub(lambda m: mask_id_number(_digits(m.group(0))) or "", text)
    text = _CARD_RE.sub(lambda m: "**** " + _digits(m.group(0))[-4:], text)
    text = _MOBILE_RE.sub(lambda m: m.group(1) + "****" + m.group(3), text)
    text = _LANDLINE_RE.sub(lambda m: m.group(1) + "-****" + m.group(3), text)
    return _EMAIL_RE.sub(lambda m: m.group(1) + "***@" + m.group(2), text)


def phone_suffix(phone: str | None) -> str | None:
    return phone[-4:] if phone else None


# Strings that are identifiers, not people: UUIDs and hex digests may contain digit runs
# that look like a phone number but are not one.
_OPAQUE_RE = re.compile(
    r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-f]{32,})$"
)


def contains_pii(text: str) -> bool:
    return bool(text) and any(
        pattern.search(text) for pattern in (_ID_RE, _MOBILE_RE, _LANDLINE_RE, _CARD_RE, _EMAIL_RE)
    )


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
