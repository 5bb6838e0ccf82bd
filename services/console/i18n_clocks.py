"""Labels of the clock and police-liaison screens (issue #15 items 5–6), Chinese first."""

from __future__ import annotations

CLOCKS: dict[str, tuple[str, str]] = {
    "nav.liaison": ("警情通报", "Police liaison"),
    "nav.extensions": ("延期审批", "Extensions"),
    # police liaison (人民调解法 Art 25)
    "li.title": ("矛盾激化风险警情通报", "Risk reports for the police"),
    "li.basis": (
        "人民调解法第二十五条：纠纷有可能激化的，调解组织应当采取有针对性的预防措施；对有可能引起治安案件、"
        "刑事案件的纠纷，应当及时向当地公安机关报告。请在通报后记录通报的公安机关与处置情况。",
        "People's Mediation Law Art 25: a dispute that may cause a public-order or criminal case is reported to "
        "the local police at once. Record which police unit was told and what was done.",
    ),
    "li.open": ("待确认的通报", "Waiting for acknowledgement"),
    "li.none_open": ("暂无待确认的风险通报", "No risk report waiting"),
    "li.done": ("已确认的通报", "Acknowledged"),
    "li.risk": ("风险类型", "Risk"),
    "li.reported": ("上报时间", "Reported"),
    "li.webhook": ("推送公安系统", "Sent to the police system"),
    "li.attempts": ("已尝试次数", "attempts"),
    "li.police_unit": ("通报的公安机关", "Police unit told"),
    "li.police_unit_hint": ("如：城东派出所", "e.g. the local police station"),
    "li.action_taken": ("处置情况", "What was done"),
    "li.action_hint": (
        "如：已电话通报值班民警，民警已到场处置",
        "e.g. phoned the duty officer, who went there",
    ),
    "li.acknowledge": ("确认已通报", "Acknowledge"),
    "li.acknowledged": ("已确认通报", "Acknowledged"),
    "li.by": ("确认人", "Acknowledged by"),
    "risk.violence": ("可能激化为暴力", "May turn violent"),
    "risk.criminal": ("可能引发刑事案件", "May lead to a crime"),
    "risk.self_harm": ("有自伤、自杀风险", "Risk of self-harm"),
    "risk.mass_incident": ("可能引发群体性事件", "May lead to a mass incident"),
    "webhook.not_configured": ("未配置推送", "Not configured"),
    "webhook.pending": ("待推送", "Pending"),
    "webhook.retrying": ("推送失败，自动重试中", "Failed, retrying"),
    "webhook.delivered": ("已推送", "Delivered"),
    # reply extensions (hotline: 5 working days, at most 15 with approval)
    "ex.title": ("答复期限延期审批", "Reply extensions"),
    "ex.basis": (
        "热线工单原则上 5 个工作日内答复，经批准最长不超过 15 个工作日；批准后按延长后的期限督办。",
        "Hotline orders are answered within 5 working days, at most 15 with approval; an approved "
        "extension is supervised against the new deadline.",
    ),
    "ex.none": ("暂无延期申请", "No extension requests"),
    "ex.requested_by": ("申请人", "Requested by"),
    "ex.due_now": ("原答复期限", "Due now"),
    "ex.due_after": ("延长后期限", "Due if approved"),
    "ex.reason": ("审批意见", "Reason"),
    "ex.approve": ("批准延期", "Approve"),
    "ex.refuse": ("不予延期", "Refuse"),
    "ex.approved": ("已批准延期", "Extension approved"),
    "ex.refused": ("已驳回延期申请", "Extension refused"),
    "ex.request": ("申请延长答复期限", "Ask for a longer reply period"),
    "ex.request_reason": ("延期理由", "Why more time is needed"),
    "ex.requested": ("延期申请已提交，待督办人员审批", "Requested; a supervisor will decide"),
    "ext.requested": ("待审批", "Awaiting decision"),
    "ext.approved": ("已批准", "Approved"),
    "ext.refused": ("未批准", "Refused"),
    "clock.transfer": ("转办时限", "Transfer"),
    "clock.reply": ("答复时限", "Reply"),
    "clock.max": ("答复时限（已批准延期）", "Reply (extended)"),
    # the receipt (法律援助法 Art 43, 36): when the application / notice was received
    "act.receipt": ("更正收到时间", "Correct the receipt time"),
    "f.received_at": ("收到时间", "Received at"),
    "f.receipt_reason": ("收到时间早于录入当日的原因", "Why the receipt is before today"),
    "field.received_at": ("收到时间", "Received at"),
    "field.receipt": ("收件登记", "Receipt"),
    "field.counts_from": ("起算依据", "Counts from"),
    "field.days": ("期间（日）", "Days"),
}
