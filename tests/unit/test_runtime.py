"""libs.common.app.Runtime: typed fields, no string-keyed grab-bag; a service's own extras are
read only once its on_startup has set them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from libs.common.app import Runtime
from libs.common.clock import Clock, FrozenClock


@dataclass
class Extras:
    rules: str


def _rt(**kwargs: Any) -> Runtime[Extras]:
    return Runtime("svc", None, "", "", None, None, **kwargs)  # type: ignore[arg-type]


def test_the_clock_is_always_there_and_the_extras_once_set():
    rt = _rt()
    assert type(rt.clock) is Clock and rt.identity_feed is None and rt.credentials is not None
    with pytest.raises(RuntimeError, match="before the service's on_startup"):
        rt.ext  # noqa: B018
    rt.ext = Extras(rules="r")
    assert rt.ext.rules == "r"
    assert not hasattr(rt, "extras")


def test_a_test_clock_is_the_runtimes():
    frozen = FrozenClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    assert _rt(clock=frozen).clock.now() == frozen.at
