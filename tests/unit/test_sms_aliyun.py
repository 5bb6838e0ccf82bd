"""The Aliyun dysmsapi adapter (services/intake/sms/aliyun.py): its signature against the
example in Aliyun's documentation (签名机制, the SendSms request), and the adapter against a
stand-in of the RPC endpoint on a real local socket — form fields, signature, OutId = our
message id, error codes sorted into transient and permanent, the in-doubt lookup by OutId.
Also the pure parts: templates, limits, which event calls for which message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI, Request

from libs.common.events import intake as ev
from libs.common.testing.infra import serve
from services.intake.sms import aliyun, policy, templates
from services.intake.sms.gateway import OutgoingSms, PermanentSmsError, TransientSmsError
from services.intake.sms.settings import SmsSettings

# Aliyun's documented example: AccessKeyId testId, AccessKeySecret testSecret.
DOC_PARAMS = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}
DOC_QUERY = (
    "AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001"
    "&RegionId=cn-hangzhou&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95%E4%B8%93%E7%94%A8"
    "&SignatureMethod=HMAC-SHA1&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0"
    "&TemplateCode=SMS_71390007&TemplateParam=%7B%22customer%22%3A%22test%22%7D"
    "&Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25"
)


def test_signature_matches_aliyuns_documented_example():
    assert aliyun.canonical_query(DOC_PARAMS) == DOC_QUERY
    assert aliyun.string_to_sign(DOC_PARAMS).startswith("GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms")
    assert aliyun.sign(DOC_PARAMS, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert aliyun.sign(DOC_PARAMS, "otherSecret") != "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_percent_encoding_is_rfc3986():
    assert aliyun.percent_encode("a b*c~d/e+f") == "a%20b%2Ac~d%2Fe%2Bf"


def stand_in(secret: str) -> tuple[FastAPI, list[dict]]:
    """Aliyun's RPC endpoint as far as SendSms and QuerySendDetails go; checks each signature."""
    app = FastAPI()
    got: list[dict] = []

    @app.post("/")
    async def rpc(request: Request) -> dict:
        form = dict((await request.form()).items())
        signature = form.pop("Signature")
        if aliyun.sign(form, secret, "POST") != signature:
            return {"Code": "SignatureDoesNotMatch", "Message": "bad signature"}
        got.append(form)
        if form["Action"] == "QuerySendDetails":
            sent = [f for f in got if f["Action"] == "SendSms" and f["PhoneNumbers"] == form["PhoneNumber"]]
            return {
                "Code": "OK",
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": [{"OutId": f["OutId"]} for f in sent]},
            }
        if form["PhoneNumbers"] == "13800000000":
            return {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}
        if form["PhoneNumbers"] == "13800000001":
            return {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"}
        return {"Code": "OK", "Message": "OK", "BizId": f"biz-{len(got)}", "RequestId": "r"}

    return app, got


def message(phone: str, mid: str = "0b7f0c52-5a55-4c1e-9a51-0d6f3c1b2a11") -> OutgoingSms:
    params = {"number": "LW20261203000001", "link": "http://x/citizen/track?number=LW20261203000001"}
    return OutgoingSms(mid, phone, "order_received", params, templates.render("order_received", params))


async def test_adapter_against_a_local_stand_in_of_the_rpc_endpoint():
    app, got = stand_in("sekret")
    running = await serve("aliyun-stand-in", app, credentials="none")
    s = SmsSettings(
        provider="aliyun",
        aliyun_endpoint=running.url + "/",
        aliyun_access_key_id="id1",
        aliyun_access_key_secret="sekret",
        aliyun_template_order_received="SMS_11",
    )
    gw = aliyun.AliyunGateway(s)
    try:
        m = message("13834567890")
        assert await gw.find_sent(m) is None  # nothing sent yet
        assert (await gw.send(m)).startswith("biz-")
        sent = got[-1]
        assert (
            sent["OutId"] == m.id
            and sent["TemplateCode"] == "SMS_11"
            and sent["SignName"] == s.aliyun_sign_name
        )
        assert (
            sent["TemplateParam"]
            == '{"number":"LW20261203000001","link":"http://x/citizen/track?number=LW20261203000001"}'
        )
        assert await gw.find_sent(m) == f"query:{m.id}"  # the in-doubt lookup finds it by OutId
        with pytest.raises(PermanentSmsError) as bad:
            await gw.send(message("13800000000"))
        assert bad.value.code == "isv.MOBILE_NUMBER_ILLEGAL"
        with pytest.raises(TransientSmsError) as busy:
            await gw.send(message("13800000001"))
        assert busy.value.code == "isv.BUSINESS_LIMIT_CONTROL" and not busy.value.maybe_sent
        wrong = aliyun.AliyunGateway(s.model_copy(update={"aliyun_access_key_secret": "wrong"}))
        with pytest.raises(PermanentSmsError, match="SignatureDoesNotMatch"):
            await wrong.send(m)
        await wrong.aclose()
    finally:
        await gw.aclose()
        await running.stop()
    # The provider away: transient, and never "maybe sent" when the connection was refused.
    gw = aliyun.AliyunGateway(s.model_copy(update={"aliyun_endpoint": running.url + "/"}))
    with pytest.raises(TransientSmsError) as away:
        await gw.send(message("13834567890"))
    assert not away.value.maybe_sent
    await gw.aclose()


def test_templates_take_only_the_number_and_the_link():
    for code in templates.TEMPLATES:
        params = templates.params_for(code, number="LW20261203000001", base_url="http://127.0.0.1:8000/")
        text = templates.render(code, params)
        assert "LW20261203000001" in text and text.endswith("回复TD退订") and "${" not in text
        assert set(params) <= {"number", "link"}
        # Short: the text without the link fits one 70-character segment with a 【签名】 of up to 8.
        assert len(text.replace(params.get("link", ""), "")) + 10 <= 70, (code, len(text))
    link = templates.tracking_link("http://127.0.0.1:8000/", "LW1")
    assert link == "http://127.0.0.1:8000/citizen/track?number=LW1"


def test_which_event_calls_for_which_message():
    assert policy.template_for(ev.WORKORDER_CREATED, {}) == templates.ORDER_RECEIVED
    missed = {"kind": "callback", "outcome": "no_answer"}
    assert policy.template_for(ev.WORKORDER_CALLBACK_RECORDED, missed) == templates.CALLBACK_MISSED
    assert policy.template_for(ev.WORKORDER_CALLBACK_RECORDED, missed | {"outcome": "reached"}) is None
    assert policy.template_for(ev.WORKORDER_CALLBACK_RECORDED, missed | {"kind": "return_visit"}) is None
    assert policy.template_for(ev.WORKORDER_CLOSED, {}) == templates.RATE_REQUEST
    assert policy.template_for(ev.WORKORDER_URGED, {}) is None
    assert policy.wants(templates.RATE_REQUEST, status="closed", rated=False)
    assert not policy.wants(templates.RATE_REQUEST, status="cancelled", rated=False)
    assert not policy.wants(templates.RATE_REQUEST, status="closed", rated=True)
    assert policy.mobile("13834567890") and not policy.mobile("03552021234") and not policy.mobile(None)
    assert (
        policy.is_opt_out_reply(" td ")
        and policy.is_opt_out_reply("退订")
        and not policy.is_opt_out_reply("谢谢")
    )


def test_rate_limit_per_hour_and_per_day():
    now = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
    limit = policy.RateLimit(per_hour=3, per_day=10)
    assert policy.limited([], now, limit) is None
    two = [now - timedelta(minutes=m) for m in (5, 10)]
    assert policy.limited(two, now, limit) is None
    assert (policy.limited([*two, now - timedelta(minutes=59)], now, limit) or "").startswith("per_hour")
    spread = [now - timedelta(hours=h) for h in range(1, 11)]  # ten over the day, none this hour
    assert (policy.limited(spread, now, limit) or "").startswith("per_day")
    assert policy.limited(spread[:9], now, limit) is None
    assert policy.limited([now - timedelta(hours=25)] * 20, now, limit) is None
