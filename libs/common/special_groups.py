"""四优先 special groups (DOMAIN.md "Special groups"): one taxonomy for every service — intake
validates orders against it, legal aid its cases, so a case opened at the window names the groups
as one opened from a work order does."""

from __future__ import annotations

from collections.abc import Iterable

from libs.common.bilingual import Text

SPECIAL_GROUPS = {
    "elderly": "老年人",
    "disabled": "残疾人",
    "minor": "未成年人",
    "women": "妇女",
    "migrant_worker": "农民工",
    "veteran": "退役军人",
    "low_income": "低收入",
    "military_family": "军属",
}


def check_known(values: Iterable[str]) -> None:
    """The bilingual field error (a pydantic ValueError) naming every unknown group and the choices."""
    unknown = [v for v in values if v not in SPECIAL_GROUPS]
    if unknown:
        raise Text(
            f"特殊群体 {'、'.join(unknown)} 无效，可选：{'、'.join(SPECIAL_GROUPS)}",
            f"unknown special group(s) {', '.join(unknown)}; expected: {', '.join(SPECIAL_GROUPS)}",
        ).error()
