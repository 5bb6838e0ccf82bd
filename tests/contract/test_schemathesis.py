"""Schemathesis — a tool nobody on the project wrote — against every service's live
/openapi.json (#17): generated requests, including the edge cases of its coverage phase, must
never meet a server error, and every answer must match what the document says (status,
content type, schema). Bounded for `make test` (LAWLINE_FUZZ_EXAMPLES, default 5 per
operation); `make fuzz` runs the same with many more."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from libs.common.testing.auth import token
from libs.common.testing.infra import consumers_ready, services

SERVICES = ("intake", "dispatch", "aid", "mediation", "identity")
EXAMPLES = int(os.environ.get("LAWLINE_FUZZ_EXAMPLES", "5"))
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    )
)
# Streams never end by themselves; Prometheus' text is not part of the contract.
EXCLUDE = "^/(v1/inbox/stream|metrics)$"


@pytest.fixture(scope="module")
async def stack(infra):
    async with services(infra, *SERVICES) as running:
        await consumers_ready(*running.values())
        yield running


@pytest.mark.parametrize("name", SERVICES)
async def test_no_server_error_and_every_answer_as_documented(stack, name, tmp_path: Path):
    st = Path(sys.executable).with_name("st")
    proc = await asyncio.create_subprocess_exec(
        str(st),
        "run",
        f"{stack[name].url}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing",
        "--exclude-path-regex",
        EXCLUDE,
        "--seed",
        "17",
        "--header",
        f"Authorization: Bearer {token('admin', '1404', None)}",
        "--request-timeout",
        "20",
        "--report-dir",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"},
    )
    out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text[-12000:]
