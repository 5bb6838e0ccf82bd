"""Every payload model carries a valid example, every message of docs/asyncapi.yaml shows one
(payload + the record headers), and the field-name convention of libs/common/events holds where
issue #17 found it broken (identity's account_id, aid's actor)."""

from __future__ import annotations

import re
import uuid
from functools import cache
from pathlib import Path

import pytest
import yaml

from libs.common.events import aid, identity
from libs.common.events.catalogue import catalogue
from libs.common.events.envelope import Envelope
from libs.common.events.examples import examples_of

DOC = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"
SPECS = catalogue()
MODELS = sorted({s.model for s in SPECS if s.model is not None}, key=lambda m: m.__name__)


def _is_uuid(value: object) -> bool:
    try:
        return str(uuid.UUID(str(value))) == value
    except ValueError:
        return False


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_payload_model_has_an_example_that_validates(model):
    found = examples_of(model)
    assert found, f"{model.__name__}: add model_config = examples({{...}}) (libs/common/events/examples.py)"
    for example in found:
        parsed = model.model_validate(example)
        # Every field is shown (defaults too), and the example survives the wire form unchanged.
        assert set(example) == set(model.model_fields), model.__name__
        assert model.model_validate(parsed.model_dump(mode="json")) == parsed


def test_examples_follow_the_field_name_convention():
    """`*_id` is a UUID except the documented non-UUID identifiers (deprecated versions excepted:
    TokenRevokedV1.account_id is the username, the reason for its V2)."""
    not_uuids = {"key_id", "jti", "snapshot_id", "operator_id", "actor_key_id"}
    current = {s.model for s in SPECS if s.superseded_by is None}
    for model in MODELS:
        if model not in current:
            continue
        for example in examples_of(model):
            for field, value in example.items():
                if field.endswith("_id") and field not in not_uuids and value is not None:
                    assert _is_uuid(value), f"{model.__name__}.{field} = {value!r} is not a UUID"


@cache
def _doc() -> dict:
    return yaml.safe_load(DOC.read_text())


def test_every_message_in_the_asyncapi_document_has_an_example():
    messages = _doc()["components"]["messages"]
    missing = [name for name, msg in messages.items() if not msg.get("examples")]
    assert not missing, f"messages without examples: {missing} (run `python -m scripts.asyncapi`)"
    for name, msg in messages.items():
        for example in msg["examples"]:
            assert example["payload"] is not None and example["headers"], name


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.type)
def test_each_message_example_is_a_record_a_consumer_reads(spec):
    """Headers and value of the example parse back (Envelope.from_kafka) into this type's event,
    and its data validates against the message's payload model."""
    name = spec.type.removeprefix("cn.lawline.").replace(".", "_")
    examples = _doc()["components"]["messages"][name]["examples"]
    for example in examples:
        headers = example["headers"]
        for required in ("ce_id", "ce_source", "ce_type", "ce_specversion", "ce_time", "content-type"):
            assert headers.get(required), (name, required)
        assert headers["ce_type"] == spec.type and headers["ce_specversion"] == "1.0"
        assert headers["content-type"] == "application/json"
        if "ce_sequence" in headers:
            assert re.fullmatch(r"[0-9]{12}", headers["ce_sequence"])
        event = Envelope.from_kafka([(k, v.encode()) for k, v in headers.items()], _json(example["payload"]))
        assert event.type == spec.type and spec.model is not None
        event.payload(spec.model)


def _json(payload: dict) -> bytes:
    import orjson

    return orjson.dumps(payload)


def test_deprecated_versions_stay_documented_and_name_their_successor():
    by_type = {s.type: s for s in SPECS}
    assert by_type[identity.TOKEN_REVOKED_V1].superseded_by == identity.TOKEN_REVOKED
    assert by_type[identity.TOKEN_REVOKED].superseded_by is None
    for v2, v1 in aid.V1_OF.items():
        assert by_type[v1].model is aid.AidCaseTransitionV1 and by_type[v1].superseded_by == v2
        assert by_type[v2].model is aid.AidCaseTransitionV2
    messages = _doc()["components"]["messages"]
    old = messages["identity_token_revoked_v1"]
    assert "deprecated" in old["title"] and {"name": "deprecated"} in old["tags"]
    assert "tags" not in messages["identity_token_revoked_v2"]


def test_v2_payloads_say_what_each_id_is():
    revoked = identity.TokenRevokedV2.model_validate(examples_of(identity.TokenRevokedV2)[0])
    assert _is_uuid(revoked.account_id) and not _is_uuid(revoked.username)
    assert "actor" not in aid.AidCaseTransitionV2.model_fields
    for example in examples_of(aid.AidCaseTransitionV2):
        step = aid.AidCaseTransitionV2.model_validate(example)
        if step.actor_kind == "system":
            assert step.actor_staff_id is None and step.actor_username is None
        else:
            assert step.actor_staff_id is None or _is_uuid(step.actor_staff_id)
