"""Labels of the SMS messages an order sent (intake's GET /v1/work-orders/{id}/sms): the
template and the status codes, for the order view. i18n.M includes every key here."""

from __future__ import annotations

SMS: dict[str, tuple[str, str]] = {
    "od.sms": ("短信通知", "SMS to the citizen"),
    "sms.order_received": ("受理通知", "Order received"),
    "sms.callback_missed": ("回拨未接通", "Callback missed"),
    "sms.rate_request": ("邀请评价", "Please rate"),
    "smsstatus.pending": ("待发送", "Waiting"),
    "smsstatus.sending": ("发送中", "Sending"),
    "smsstatus.sent": ("已发送", "Sent"),
    "smsstatus.failed": ("发送失败", "Failed"),
    "smsstatus.limited": ("超过频次未发送", "Not sent: rate limit"),
    "smsstatus.opted_out": ("已退订未发送", "Not sent: opted out"),
}
