"""Aliyun 短信服务 (dysmsapi, API version 2017-05-25) over its RPC API, with httpx.

Why not the SDK (PyPI alibabacloud-dysmsapi20170525): it brings the Tea runtime and a dozen
packages for two calls whose signature is twenty lines; httpx is already ours.

The signature is Aliyun's RPC signature v1 (documented as "RPC 风格签名" / 签名机制): every
parameter but Signature, sorted by name, each name and value percent-encoded (RFC 3986:
unreserved characters kept, space as %20, `*` as %2A, `~` kept), joined with & and =; the
string to sign is `METHOD&%2F&` + that query percent-encoded again; the signature is
base64(HMAC-SHA1(AccessKeySecret + "&", string to sign)). tests/unit/test_sms_aliyun.py
checks it against the documentation's own SendSms example.

The message id travels as OutId, and comes back in delivery receipts and QuerySendDetails:
a message in doubt (its sender died after the call, before the mark) is looked up by OutId
before it is sent again (SendSms itself does not dedupe)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

import httpx

from services.intake.sms.gateway import OutgoingSms, PermanentSmsError, TransientSmsError
from services.intake.sms.settings import SmsSettings

VERSION = "2017-05-25"
# Aliyun's error codes that pass (its flow control, its own failures, a reused nonce): try again.
# Every other code (isv.MOBILE_NUMBER_ILLEGAL, isv.SMS_TEMPLATE_ILLEGAL, isv.AMOUNT_NOT_ENOUGH, …)
# is permanent for this message.
TRANSIENT_CODES = {
    "isv.BUSINESS_LIMIT_CONTROL",
    "isp.SYSTEM_ERROR",
    "SignatureNonceUsed",
    "Throttling",
    "Throttling.User",
    "ServiceUnavailable",
    "InternalError",
}


def percent_encode(value: str) -> str:
    return quote(value, safe="~")  # RFC 3986 unreserved kept; quote already writes space as %20, * as %2A


def canonical_query(params: dict[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def string_to_sign(params: dict[str, str], method: str = "GET") -> str:
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def sign(params: dict[str, str], secret: str, method: str = "GET") -> str:
    digest = hmac.new((secret + "&").encode(), string_to_sign(params, method).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signed_params(
    action_params: dict[str, str],
    *,
    access_key_id: str,
    secret: str,
    region: str,
    method: str = "POST",
    nonce: str | None = None,
    timestamp: datetime | None = None,
) -> dict[str, str]:
    """The common parameters, the action's, and the Signature over them all."""
    params = {
        "AccessKeyId": access_key_id,
        "Format": "JSON",
        "RegionId": region,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": nonce or str(uuid.uuid4()),
        "SignatureVersion": "1.0",
        "Timestamp": (timestamp or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Version": VERSION,
        **action_params,
    }
    return params | {"Signature": sign(params, secret, method)}


class AliyunGateway:
    name = "aliyun"

    def __init__(self, s: SmsSettings, client: httpx.AsyncClient | None = None) -> None:
        if not (s.aliyun_access_key_id and s.aliyun_access_key_secret):
            raise ValueError("LAWLINE_SMS_PROVIDER=aliyun needs LAWLINE_SMS_ALIYUN_ACCESS_KEY_ID and _SECRET")
        self.s = s
        self.templates = {
            "order_received": s.aliyun_template_order_received,
            "callback_missed": s.aliyun_template_callback_missed,
            "rate_request": s.aliyun_template_rate_request,
        }
        self.client = client or httpx.AsyncClient(timeout=s.aliyun_timeout_seconds)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _call(self, action_params: dict[str, str], *, sending: bool) -> dict:
        form = signed_params(
            action_params,
            access_key_id=self.s.aliyun_access_key_id,
            secret=self.s.aliyun_access_key_secret,
            region=self.s.aliyun_region,
        )
        try:
            r = await self.client.post(self.s.aliyun_endpoint, data=form)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise TransientSmsError("network", type(exc).__name__) from exc  # never reached Aliyun
        except httpx.TransportError as exc:  # sent, the answer lost: it may have gone out
            raise TransientSmsError("network", type(exc).__name__, maybe_sent=sending) from exc
        try:
            body = r.json()
        except ValueError:
            body = {}
        code = str(body.get("Code") or f"HTTP{r.status_code}")
        if code == "OK":
            return body
        message = str(body.get("Message") or "")
        if code in TRANSIENT_CODES or r.status_code >= 500:
            raise TransientSmsError(code, message)
        raise PermanentSmsError(code, message)

    async def send(self, message: OutgoingSms) -> str:
        body = await self._call(
            {
                "Action": "SendSms",
                "PhoneNumbers": message.phone,
                "SignName": self.s.aliyun_sign_name,
                "TemplateCode": self.templates[message.template],
                "TemplateParam": json.dumps(message.params, ensure_ascii=False, separators=(",", ":")),
                "OutId": message.id,
            },
            sending=True,
        )
        return str(body.get("BizId") or "")

    async def find_sent(self, message: OutgoingSms) -> str | None:
        """QuerySendDetails of the number for today (Beijing date) and yesterday, matched on OutId."""
        from datetime import timedelta, timezone

        today = datetime.now(timezone(timedelta(hours=8))).date()
        for day in (today, today - timedelta(days=1)):
            body = await self._call(
                {
                    "Action": "QuerySendDetails",
                    "PhoneNumber": message.phone,
                    "SendDate": day.strftime("%Y%m%d"),
                    "PageSize": "50",
                    "CurrentPage": "1",
                },
                sending=False,
            )
            details = (body.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
            for d in details:
                if d.get("OutId") == message.id:
                    return f"query:{message.id}"
        return None
