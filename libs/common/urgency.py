"""The urgency scale of a work order: normal < urgent < critical (一般 < 紧急 < 特急).

Everything that treats urgent orders specially (priority, clocks, policy rules, the 7×24
on-call tier, offer timeouts, supervision) asks this scale whether an order is *at least*
so urgent, never `urgency == "urgent"`: a critical order ("邻居拿着刀说要杀了我全家") must
never be handled more slowly than an urgent one.
"""

from __future__ import annotations

SCALE: tuple[str, ...] = ("normal", "urgent", "critical")
LABELS = {"normal": "一般", "urgent": "紧急", "critical": "特急"}
_RANK = {u: i for i, u in enumerate(SCALE)}


def rank(urgency: str | None) -> int:
    """Position on the scale; a missing value is normal. An unknown one is refused rather
    than guessed: every producer validates urgency against SCALE."""
    if not urgency:
        return 0
    try:
        return _RANK[urgency]
    except KeyError:
        raise ValueError(f"unknown urgency {urgency!r}; one of {SCALE}") from None


def at_least(urgency: str | None, level: str) -> bool:
    """Is this order at least as urgent as `level`?"""
    return rank(urgency) >= rank(level)


def levels_from(level: str) -> tuple[str, ...]:
    """`level` and every level above it (a rule for urgent orders also takes critical ones)."""
    return SCALE[rank(level) :]
