"""Every event type has a versioned payload model, and docs/asyncapi.yaml is current."""

from pathlib import Path

import yaml

from libs.common.events.catalogue import catalogue

DOC = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"


def test_every_event_type_has_a_payload_model():
    missing = [s.type for s in catalogue() if s.model is None]
    assert not missing, f"event types without a payload model: {missing}"
    assert all(s.type.rsplit(".", 1)[-1].startswith("v") for s in catalogue())


def test_published_asyncapi_document_is_current():
    # The generator adds headers, keys, receive operations and the dead-letter channel to the
    # catalogue's document (scripts/asyncapi.py); the published file is its output.
    from scripts.asyncapi import render

    assert DOC.exists(), "run `python -m scripts.asyncapi`"
    assert yaml.safe_load(DOC.read_text()) == yaml.safe_load(render()), (
        "docs/asyncapi.yaml is stale: run `python -m scripts.asyncapi`"
    )


def test_a_superseded_version_stays_in_the_catalogue_marked_deprecated():
    # A published version is never edited nor dropped (consumers read it while old records remain):
    # its newer version is found by the type string, and its model says it is deprecated.
    by_type = {s.type: s for s in catalogue()}
    superseded = [s for s in by_type.values() if s.superseded_by]
    assert superseded, "issue #17 added v2 types: their v1 must stay listed"
    for spec in superseded:
        assert spec.superseded_by in by_type and spec.model is not None, spec.type
        assert (spec.model.__doc__ or "").lstrip().startswith("Deprecated"), spec.model.__name__
        assert by_type[spec.superseded_by].model is not spec.model, spec.type
