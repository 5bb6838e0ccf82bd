"""Session-wide real infrastructure: embedded PostgreSQL + Tansu (or the servers named
by LAWLINE_TEST_DATABASE_URL / LAWLINE_TEST_KAFKA). Never skipped."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from libs.common.testing.infra import Infra, start_infra, stop_infra


@pytest.fixture(scope="session")
def infra() -> Infra:
    infra = start_infra()
    # The development SMS provider of every intake a test starts writes here, not into ./var.
    sms = (infra.tmp or Path(tempfile.mkdtemp(prefix="lawline-sms-"))) / "sms" / "outbox.jsonl"
    os.environ.setdefault("LAWLINE_SMS_OUTBOX_FILE", str(sms))
    yield infra
    stop_infra(infra)
