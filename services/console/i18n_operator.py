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
    "oe.title": ("更正 / 调整分类", "Correct / reclassify"),
    "oe.hint": (
        "听错的电话、补充的身份证号、改派业务类型",
        "A misheard phone, an added ID number, another service type",
    ),
    "oe.facts": ("更正求助人信息和诉求", "Correct the requester and the request"),
    "oe.classification": ("调整业务类型、特殊群体和紧急程度", "Change type, special groups and urgency"),
    "oe.now": ("现为", "now"),
    "oe.blank_unchanged": ("不填则不变", "leave blank to keep"),
    "oe.unchanged": ("不变", "Unchanged"),
    "oe.reason": ("更正原因", "Reason"),
    "oe.reason_hint": ("例如：来电人更正联系电话", "e.g. the caller corrected the phone number"),
    "oe.reroute_hint": (
        "调整类型或紧急程度后，派单将按新的分类重新评估。",
        "After a change of type or urgency, dispatch re-evaluates the order.",
    ),
    "oe.save": ("保存更正", "Save"),
    "oe.saved": ("已保存", "Saved"),
    "oe.nothing_changed": ("没有改动任何内容", "Nothing was changed"),
    "oe.not_allowed": (
        "该工单已办结或已并单，或您无权更正",
        "The order is closed or merged, or you may not correct it",
    ),
    "rc.title": ("受理回执", "Receipt of your request"),
    "rc.print": ("打印回执", "Print"),
    "rc.back": ("返回工单", "Back to the order"),
    "rc.number": ("工单号", "Order number"),
    "rc.requester": ("求助人", "Requester"),
    "rc.phone": ("联系电话", "Phone"),
    "rc.received_at": ("受理时间", "Received"),
    "rc.channel": ("受理方式", "Received by"),
    "rc.matter": ("事项类别", "Matter"),
    "rc.description": ("求助内容", "Your request"),
    "rc.reply_by": ("答复时限", "We will reply by"),
    "rc.track": ("如何查询办理进度", "How to follow your request"),
    "rc.track_web": (
        "登录公共法律服务网络平台“进度查询”，输入工单号 %(number)s 和您手机号码的后四位。",
        "On the public legal service website, open “Track my request” and enter %(number)s and the last 4 digits of your phone.",
    ),
    "rc.track_phone": (
        "或拨打 12348 公共法律服务热线，报工单号查询。",
        "Or call the 12348 hotline and give the order number.",
    ),
    "rc.privacy": (
        "请妥善保管本回执。工作人员不会向您索要银行卡密码或验证码。",
        "Keep this receipt. Staff will never ask for a bank card PIN or a verification code.",
    ),
    "rc.clerk": ("经办人", "Received by"),
}
