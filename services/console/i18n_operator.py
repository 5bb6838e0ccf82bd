"""Labels of the operator's form helpers (ID check, drafts, 并入此单, history); i18n.M includes them.
Kept apart from i18n.py only for size (same lookup, same tests)."""

from __future__ import annotations

OPERATOR: dict[str, tuple[str, str]] = {
    "op.id_number": ("身份证号", "ID number"),
    "op.optional": ("（选填）", "(optional)"),
    "op.id_ok": ("✓ 校验位正确", "✓ check digit correct"),
    "op.id_bad_length": ("还差 {n} 位（共 18 位）", "{n} more characters (18 in all)"),
    "op.id_bad_digit": (
        "✗ 校验位不对，请核对（最后一位应为 {d}）",
        "✗ the check digit is wrong — please check (the last character should be {d})",
    ),
    "op.draft_restored": (
        "已恢复本标签页中未提交的内容。",
        "Restored what you had not submitted in this tab.",
    ),
    "op.draft_discard": ("清空重填", "Discard"),
    "op.merge_into": ("并入此单（催办）", "Merge into this (urge)"),
    "op.merge_hint": (
        "来电人说的是同一件事：本次来电记为对该工单的催办，不另行派单",
        "The caller means the same matter: this call is recorded as an urge on that order, not dispatched again",
    ),
    "op.merge_chosen": ("本次来电将并入工单 {n}（催办）。", "This call will be merged into {n} (an urge)."),
    "op.merge_cancel": ("取消并单", "Do not merge"),
    "op.merged_into": (
        "已并入来电人的在办工单（记为催办，不另行派单）。",
        "Merged into the caller's open order (an urge; not dispatched again).",
    ),
    "op.open_order": ("查看该工单", "Open that order"),
    "op.history": ("既往工单", "Earlier orders"),
    "op.history_none": ("该号码没有既往工单", "No earlier orders for this number"),
    "op.prefill": ("填入来电人信息", "Fill in the caller's details"),
    "op.prefill_hint": (
        "按最近一次工单填入姓名和地址，请向来电人核实",
        "Name and place from the latest order — confirm with the caller",
    ),
    "op.result": ("办理结果", "Result"),
    "op.handler": ("承办", "Handled by"),
    "op.rating_short": ("评价", "Rating"),
    "op.urged": ("催办", "Urged"),
    "op.receipt": ("打印回执", "Print receipt"),
}
