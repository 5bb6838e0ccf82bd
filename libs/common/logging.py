"""JSON logs with a correlation id that follows a work order across services.

The correlation id lives in a contextvar: the HTTP middleware sets it from the
`X-Correlation-ID` header (or makes one), event handlers set it from the event's
`correlationid` extension, so every log line of one order's journey can be joined.
Phone and ID numbers are masked by a filter before any line is written.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid
from typing import Any

import orjson

from libs.common.pii import mask_text

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


# Secrets never reach a log line: bearer tokens, JWTs, our API keys, password-like fields.
_SECRETS = [
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[REDACTED]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[REDACTED-JWT]"),
    (re.compile(r"(llk_[0-9a-f]+_)[A-Za-z0-9_-]+"), r"\1[REDACTED]"),
    (
        re.compile(
            r"(?i)((?:password|passwd|secret|api_key|apikey|refresh_token|access_token|x-api-key)"
            r"[\"']?\s*[:=]\s*[\"']?)([^\"'&\s,}]+)"
        ),
        r"\1[REDACTED]",
    ),
]


def redact_secrets(text: str) -> str:
    for pattern, repl in _SECRETS:
        text = pattern.sub(repl, text)
    return text


def sanitize(text: str) -> str:
    """What every log line goes through: personal data masked, secrets removed."""
    return redact_secrets(mask_text(text)) if text else text


def _sanitize_value(v: Any) -> Any:
    if isinstance(v, str):
        return sanitize(v)
    if isinstance(v, dict):
        return {k: _sanitize_value(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_sanitize_value(x) for x in v]
    return v


class MaskingFilter(logging.Filter):
    """On the handler, so any formatter (ours, uvicorn's, a test's) gets a sanitized record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the line
            message = str(record.msg)
        record.msg, record.args = sanitize(message), None
        if getattr(record, "fields", None):
            record.fields = _sanitize_value(record.fields)  # type: ignore[attr-defined]
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": sanitize(record.getMessage()),
            "correlation_id": correlation_id.get(),
        }
        extra = getattr(record, "fields", None)
        if extra:
            entry.update({k: _sanitize_value(v) for k, v in extra.items()})
        if record.exc_info:
            entry["exc"] = sanitize(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "kafka", "uvicorn.access", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
