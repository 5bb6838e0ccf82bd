"""Personal data never leaves whole: log lines (captured), event payloads (outbox guard),
and encrypted values survive key rotation."""

from __future__ import annotations

import base64
import io
import logging

import pytest

from libs.common.crypto import PiiCipher, new_key_spec
from libs.common.events.envelope import Envelope
from libs.common.logging import JsonFormatter, MaskingFilter, sanitize
from libs.common.outbox import PiiInEvent, guard_payload
from libs.common.pii import mask_id_number, mask_phone, scrub

PHONE, ID = "13812345678", "14043019900101123X"


def test_masks_have_the_documented_shape():
    assert mask_phone(PHONE) == "138****5678"
    assert mask_id_number("140430199001011234") == "1404**********1234"


@pytest.fixture
def captured():
    """A handler exactly like production's (JSON formatter + masking filter) writing to memory."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test"))
    handler.addFilter(MaskingFilter())
    logger = logging.getLogger("lawline.test.capture")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_log_lines_never_carry_raw_phone_id_or_secrets(captured):
    logger, stream = captured
    logger.info("caller %s gave id %s", PHONE, ID)
    logger.warning("body: %s", {"requester": {"phone": PHONE, "id_number": ID}})
    logger.info("structured", extra={"fields": {"phone": PHONE, "nested": {"ids": [ID]}}})
    logger.info("headers Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl")
    logger.info("open311 api_key=llk_0a1b2c3d4e5f_SuperSecretPart and password=hunter2")
    try:
        raise ValueError(f"bad phone {PHONE}")
    except ValueError:
        logger.exception("failed for %s", ID)
    out = stream.getvalue()
    assert len(out.splitlines()) == 6
    for secret in (PHONE, ID, "SuperSecretPart", "hunter2", "c2lnbmF0dXJl"):
        assert secret not in out
    assert "138****5678" in out and "1404**********123X" in out


def test_sanitize_keeps_ordinary_numbers():
    text = "order LW2026112400012 region 140430003 staff S00042 at 2026-11-24"
    assert sanitize(text) == text


def test_scrub_finds_and_masks_nested_pii_but_not_identifiers():
    data = {
        "work_order_id": "6f1c2a38-1381-2345-6789-138123456780",
        "key_hash": "a" * 12 + "13812345678" + "b" * 41,
        "requester": {"phone": PHONE, "notes": [f"身份证 {ID}"]},
    }
    masked, paths = scrub(data)
    assert paths == ["requester.phone", "requester.notes[0]"]
    assert masked["requester"]["phone"] == "138****5678"
    assert masked["work_order_id"] == data["work_order_id"] and masked["key_hash"] == data["key_hash"]


def _event(data):
    return Envelope(type="cn.lawline.test.v1", source="/test", data=data)


def test_outbox_guard_masks_by_default(monkeypatch):
    monkeypatch.delenv("LAWLINE_EVENT_PII", raising=False)
    event = _event({"description": f"我的电话 {PHONE}", "n": 3})
    guard_payload(event)
    assert PHONE not in str(event.data) and event.data["n"] == 3


def test_outbox_guard_can_refuse(monkeypatch):
    monkeypatch.setenv("LAWLINE_EVENT_PII", "refuse")
    with pytest.raises(PiiInEvent) as err:
        guard_payload(_event({"requester_phone": PHONE}))
    assert "requester_phone" in str(err.value) and PHONE not in str(err.value)
    clean = _event({"requester_phone_masked": "138****5678"})
    guard_payload(clean)  # masked values pass untouched
    assert clean.data == {"requester_phone_masked": "138****5678"}


def test_key_rotation_reencrypts_under_the_new_key():
    index = base64.b64encode(b"i" * 32).decode()
    old_spec = new_key_spec("k1")
    old = PiiCipher(old_spec, index)
    token = old.encrypt(ID)
    rotated_cipher = PiiCipher(f"{new_key_spec('k2')},{old_spec}", index)
    assert rotated_cipher.decrypt(token) == ID  # old rows still readable
    assert rotated_cipher.needs_rotation(token)
    new = rotated_cipher.rotate(token)
    assert new.startswith("k2:") and rotated_cipher.decrypt(new) == ID
    assert not rotated_cipher.needs_rotation(new) and rotated_cipher.rotate(new) == new
    # The blind index does not depend on the encryption key: lookups keep working.
    assert old.blind_index(ID.lower()) == rotated_cipher.blind_index(ID)


# Numbers as callers dictate them and operators type them (#17: these reached Kafka whole).
DICTATED = [
    ("手机 136 2222 3333", "136****3333", "2222"),
    ("手机 136-2222-3333", "136****3333", "2222"),
    ("手机 +86 138 1234 5678", "138****5678", "1234 5678"),
    ("身份证 140430 19650215 0024", "1404**********0024", "19650215"),
    ("身份证 140430-19650215-002X", "1404**********002X", "19650215"),
    ("座机 0355-2021234", "0355-****1234", "2021234"),
    ("座机 (0355)2021234 转 801", "0355-****1234", "2021234"),
    ("座机 0355 2021234", "0355-****1234", "2021234"),
    ("邮箱 zhang.san@example.com.cn", "z***@example.com.cn", "zhang.san"),
    ("工资卡 6222 0212 3456 7890", "**** 7890", "0212 3456"),
    ("工资卡 6222021234567890123", "**** 0123", "62220212345"),
]


@pytest.mark.parametrize(("text", "masked", "gone"), DICTATED)
def test_free_text_masks_numbers_with_separators_landlines_emails_and_cards(text, masked, gone):
    out = sanitize(text)
    assert masked in out and gone not in out, out
    scrubbed, paths = scrub({"description": text})
    assert paths == ["description"] and scrubbed["description"] == out


def test_masking_keeps_dates_amounts_codes_and_order_numbers():
    text = (
        "LW20261202000007 于 2026-11-24T09:30:00.123456 受理，拖欠 12000.50 元，"
        "区划 140430003 / 140430100000，人员 S00042，第 3 次来电，共 36 户"
    )
    assert sanitize(text) == text
