"""The messages a 12348 centre sends, and the only parameters they take: the order number and
a link to the citizen tracking page. Nothing else — no name, description, ID number or
phone — can reach a text, because `render` fills only these placeholders from these values
(tests/integration/test_intake_sms.py checks the texts of real orders).

Each text is short (one 70-character segment with the provider's 【签名】 where it can) and ends
with the opt-out instruction (回复TD退订) the carriers expect of every service message."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

ORDER_RECEIVED = "order_received"
CALLBACK_MISSED = "callback_missed"
RATE_REQUEST = "rate_request"


@dataclass(frozen=True)
class Template:
    code: str
    label: str  # what staff screens call it
    label_en: str
    text: str  # ${…}: the parameters, as Aliyun's templates write them


TEMPLATES = {
    t.code: t
    for t in (
        Template(
            ORDER_RECEIVED,
            "受理通知",
            "order received",
            "您的法律服务求助已受理，工单号${number}。查询进度：${link}（需输入来电号码后四位）。回复TD退订",
        ),
        Template(
            CALLBACK_MISSED,
            "回拨未接通",
            "callback missed",
            "12348工作人员就工单${number}给您回电未接通，请您方便时拨打12348联系我们。回复TD退订",
        ),
        Template(
            RATE_REQUEST,
            "邀请评价",
            "please rate",
            "您的工单${number}已办结，欢迎对本次服务评价：${link} 回复TD退订",
        ),
    )
}
PARAMS = ("number", "link")


def tracking_link(base_url: str, number: str) -> str:
    """The citizen tracking page for this order; the phone suffix is never in the link (the
    citizen types it: the page's own check against someone else reading the order)."""
    return f"{base_url.rstrip('/')}/citizen/track?{urlencode({'number': number})}"


def params_for(template: str, *, number: str, base_url: str) -> dict[str, str]:
    params = {"number": number}
    if "${link}" in TEMPLATES[template].text:
        params["link"] = tracking_link(base_url, number)
    return params


def render(template: str, params: dict[str, str]) -> str:
    text = TEMPLATES[template].text
    for name in PARAMS:
        if name in params:
            text = text.replace("${" + name + "}", params[name])
    if "${" in text:
        raise ValueError(f"template {template}: a parameter is missing in {sorted(params)}")
    return text
