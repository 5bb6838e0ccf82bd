"""Session-wide real infrastructure: embedded PostgreSQL + Tansu (or the servers named
by LAWLINE_TEST_DATABASE_URL / LAWLINE_TEST_KAFKA). Never skipped."""

from __future__ import annotations

import pytest

from libs.common.testing.infra import Infra, start_infra, stop_infra


@pytest.fixture(scope="session")
def infra() -> Infra:
    infra = start_infra()
    yield infra
    stop_infra(infra)
