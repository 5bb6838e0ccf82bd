"""Pure rules of the webhook push-back (services/intake/webhooks): signatures, SSRF targets,
which events are pushed, backoff and give-up, the documented formats in docs/webhooks."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from libs.common.events import dispatch as dispatch_events
from libs.common.events import intake as intake_events
from services.intake.webhooks import domain, formats, signing, targets

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks"
T = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)


def test_signature_verifies_and_refuses_tampering_old_stamps_and_other_secrets():
    body = b'{"id":"e1","type":"closed"}'
    value = signing.header(["whsec_new", "whsec_old"], 1_700_000_000, body)
    assert value.startswith("t=1700000000,v1=") and value.count("v1=") == 2
    assert signing.verify("whsec_new", value, body, now=1_700_000_010)
    assert signing.verify("whsec_old", value, body, now=1_700_000_010)  # rotation grace
    assert not signing.verify("whsec_other", value, body, now=1_700_000_010)
    assert not signing.verify("whsec_new", value, body + b" ", now=1_700_000_010)
    assert not signing.verify("whsec_new", value, body, now=1_700_000_000 + 301)  # a replay, too late
    # The documented recipe: HMAC-SHA256(secret, f"{t}.{body}") in hex.
    import hashlib
    import hmac

    expected = hmac.new(b"whsec_new", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert f"v1={expected}" in value


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "file:///etc/passwd", "gopher://x", "http://u:p@example.com/", "http:///nohost"],
)
def test_only_plain_http_urls(url):
    with pytest.raises(targets.TargetRefused):
        targets.check_syntax(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8001/v1",
        "http://10.1.2.3/hook",
        "http://192.168.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://100.64.0.1/hook",
        "http://localhost/hook",
    ],
)
async def test_private_targets_refused_outside_development(url):
    with pytest.raises(targets.TargetRefused) as refused:
        await targets.check(url, private_allowed=False)
    assert refused.value.zh and refused.value.en
    await targets.check(url, private_allowed=True)  # development: a receiver on this machine


async def test_public_addresses_pass():
    await targets.check("https://8.8.8.8/hook", private_allowed=False)


def test_which_events_are_pushed():
    assert domain.kind_of(intake_events.WORKORDER_CREATED, {}) == "accepted"
    assert domain.kind_of(dispatch_events.ASSIGNED, {}) == "assigned"
    reached = {"kind": "callback", "outcome": "reached"}
    assert domain.kind_of(intake_events.WORKORDER_CALLBACK_RECORDED, reached) == "answered"
    assert domain.kind_of(intake_events.WORKORDER_CALLBACK_RECORDED, {**reached, "outcome": "busy"}) is None
    visit = {"kind": "return_visit", "outcome": "reached"}
    assert domain.kind_of(intake_events.WORKORDER_RETURN_VISIT_RECORDED, visit) is None
    assert domain.kind_of(intake_events.WORKORDER_CLOSED, {}) == "closed"
    assert domain.kind_of(intake_events.WORKORDER_EVALUATED, {}) == "rated"
    assert domain.kind_of(dispatch_events.OFFERED, {}) is None
    assert dispatch_events.OFFERED not in domain.INTERESTING  # no query for it at all


def test_backoff_doubles_to_the_cap_and_stops_at_the_deadline():
    delays = [domain.retry_delay(n, first=30, factor=2, cap=3600) for n in range(1, 10)]
    assert delays[:4] == [30, 60, 120, 240] and delays[-1] == 3600
    assert 27 <= domain.retry_delay(1, first=30, factor=2, cap=3600, jitter=0.1, rnd=-1) <= 27.01
    deadline = T + timedelta(hours=24)
    assert domain.next_attempt(T, 60, deadline) == T + timedelta(seconds=60)
    assert domain.next_attempt(deadline - timedelta(seconds=30), 60, deadline) is None
    # Attempts in 24 h with the defaults: 30 s doubling to 1 h.
    at, n = T, 0
    while nxt := domain.next_attempt(at, domain.retry_delay(n + 1, first=30, factor=2, cap=3600), deadline):
        at, n = nxt, n + 1
    assert 25 <= n <= 35


def test_disabled_after_24h_of_failure_only():
    day = timedelta(hours=24)
    assert not domain.should_disable(None, T, day)
    assert not domain.should_disable(T, T + timedelta(hours=23), day)
    assert domain.should_disable(T, T + day, day)
    # A delivery gave up and nothing succeeded since its first attempt: the same 24 h.
    assert domain.should_disable(T, T + timedelta(hours=23), day, gave_up_since=T)
    assert not domain.should_disable(T + timedelta(hours=1), T + timedelta(hours=23), day, gave_up_since=T)


def test_satisfaction_grades():
    assert [domain.satisfaction(s) for s in (1, 2, 3, 4, 5, None)] == [
        "不满意",
        "不满意",
        "基本满意",
        "满意",
        "满意",
        None,
    ]


def test_12345_feedback_carries_its_ticket_unit_result_and_no_personal_data():
    facts = formats.EXAMPLE_FACTS
    body = json.loads(formats.render("12345", "rated", event_id="e1", at=T, data={"score": 1}, facts=facts))
    assert body["ticket_no"] == "12345-2026-1124-00077" and body["stage_name"] == "评价"
    assert body["satisfaction"] == "不满意" and body["handler_unit"] == facts.unit and body["finished_at"]
    formats.Feedback12345V1.model_validate(body)
    other = formats.OrderFacts(**{**facts.__dict__, "external_source": "court", "unit": None})
    ours = json.loads(formats.render("12345", "accepted", event_id="e2", at=T, data={}, facts=other))
    assert ours["ticket_no"] is None and ours["handler_unit"] == formats.AGENCY


def test_docs_are_what_the_code_writes():
    with tempfile.TemporaryDirectory() as tmp:
        formats.write_docs(Path(tmp))
        for path in sorted(Path(tmp).iterdir()):
            committed = DOCS / path.name
            assert committed.exists(), f"run: python -m services.intake.webhooks.formats ({path.name})"
            assert committed.read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), path.name
    for name in ("lawline-closed.example.json", "12345-closed.example.json"):
        model = formats.Feedback12345V1 if name.startswith("12345") else formats.LawlineEventV1
        model.model_validate_json((DOCS / name).read_text(encoding="utf-8"))
