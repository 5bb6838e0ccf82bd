"""Complexity of a work order — pure, scored with reasons that are stored on the decision.

Simple consultations belong with the township/village duty adviser; complex matters
(group disputes, violence, large amounts, repeat callers, grave domains) with the
county centre or a specialist. The weights are deliberately coarse: they decide a
tier, not a verdict, and every point carries a reason a supervisor can read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TYPE_POINTS = {
    "consultation": 0,
    "notarization": 0,
    "legal_publicity": 0,
    "suggestion": 0,
    "mediation": 1,
    "complaint": 1,
    "resettlement": 1,
    "legal_aid": 2,
    "lawyer_referral": 2,
    "judicial_appraisal": 2,
    "community_correction": 2,
    "admin_reconsideration": 3,
}
DOMAIN_POINTS = {
    "criminal": 3,
    "state_compensation": 3,
    "administrative": 2,
    "medical": 2,
    "company": 2,
    "land": 2,
    "labor": 1,
    "personal_injury": 1,
    "traffic": 1,
    "housing": 1,
    "contract": 1,
    "inheritance": 1,
    "marriage_family": 1,
}
GROUP_SIGNALS = (
    "集体",
    "群体",
    "多名",
    "十几",
    "几十",
    "上百",
    "全村",
    "工友们",
    "联名",
    "一起讨薪",
    "上访",
    "集访",
)
VIOLENCE_SIGNALS = (
    "家暴",
    "打人",
    "殴打",
    "动手",
    "威胁",
    "杀",
    "砍",
    "动刀",
    "自杀",
    "报复",
    "纵火",
    "打伤",
    "跳楼",
)
GROUP_POINTS = VIOLENCE_POINTS = 4

_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_AMOUNT = re.compile(
    r"(\d+(?:\.\d+)?|[零一二两三四五六七八九十百千]+)\s*(万|千|元|块)([零一二两三四五六七八九])?"
)


@dataclass
class Complexity:
    score: int
    reasons: list[str] = field(default_factory=list)
    amount: float | None = None


def _cn_number(s: str) -> float:
    """Small Chinese numerals (一千二百, 三十, 十五)."""
    total, current = 0, 0
    for ch in s:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in "十百千":
            unit = {"十": 10, "百": 100, "千": 1000}[ch]
            total += (current or 1) * unit
            current = 0
    return float(total + current)


def amounts(text: str) -> list[float]:
    """Money amounts mentioned in free text: 18000元, 1.5万, 一万八 (= 18,000), 三千块."""
    found = []
    for num, unit, tail in _AMOUNT.findall(text or ""):
        value = float(num) if num[0].isdigit() else _cn_number(num)
        if unit == "万":
            value *= 10_000
            if tail:  # 一万八 = 1.8万
                value += _DIGITS[tail] * 1_000
        elif unit == "千":
            value *= 1_000
        found.append(value)
    return found


def score(
    *,
    service_type: str,
    domain: str | None = None,
    special_groups: tuple[str, ...] | list[str] = (),
    description: str = "",
    prior_orders: int = 0,
) -> Complexity:
    c = Complexity(0)

    def add(points: int, why: str) -> None:
        if points:
            c.score += points
            c.reasons.append(f"+{points} {why}")

    add(TYPE_POINTS.get(service_type, 1), f"业务类型 {service_type} | service type")
    if domain:
        add(DOMAIN_POINTS.get(domain, 0), f"法律领域 {domain} | legal domain")
    if special_groups:
        add(1, f"特殊群体 {'/'.join(special_groups)} | special group (四优先)")
    text = description or ""
    hits = [s for s in GROUP_SIGNALS if s in text]
    if hits:
        add(GROUP_POINTS, f"群体性纠纷迹象「{'、'.join(hits)}」| group dispute signal")
    hits = [s for s in VIOLENCE_SIGNALS if s in text]
    if hits:
        add(VIOLENCE_POINTS, f"暴力/激化风险「{'、'.join(hits)}」| violence signal (人民调解法 Art 25)")
    money = amounts(text)
    if money:
        c.amount = max(money)
        if c.amount >= 100_000:
            add(2, f"涉及金额 {c.amount:,.0f} 元 ≥ 10 万 | large amount")
        elif c.amount >= 10_000:
            add(1, f"涉及金额 {c.amount:,.0f} 元 ≥ 1 万 | amount")
    if prior_orders:
        add(min(prior_orders, 2), f"此前已有 {prior_orders} 件工单 | repeat requester")
    return c
