"""Fixtures of the delivery-under-faults tests (helpers in pipeline_helpers.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from libs.common.config import get_settings
from libs.common.testing.infra import Infra
from tests.integration.pipeline_helpers import PrivateBroker


@pytest.fixture
def private_broker(infra: Infra):  # type: ignore[no-untyped-def]
    """A broker of this test's own, to stop or restart empty (never the session's broker)."""
    broker = PrivateBroker(infra.tmp or Path(tempfile.mkdtemp(prefix="lawline-broker-"))).start()
    yield broker
    broker.stop()


@pytest.fixture
def fast_settings(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """`fast_settings(broker_check_seconds=0.5, …)`: LAWLINE_* settings for the apps created
    afterwards in this test (create_service_app reads get_settings() when the app is made)."""

    def apply(**values: object) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"LAWLINE_{name.upper()}", str(value))
        get_settings.cache_clear()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()
