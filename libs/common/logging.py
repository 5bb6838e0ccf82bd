"""JSON logs with a correlation id that follows a work order across services.

The correlation id lives in a contextvar: the HTTP middleware sets it from the
`X-Correlation-ID` header (or makes one), event handlers set it from the event's
`correlationid` extension, so every log line of one order's journey can be joined.
Phone and ID numbers are masked by a filter before any line is written.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import uuid

import orjson

from libs.common.pii import mask_text

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


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
            "msg": mask_text(record.getMessage()),
            "correlation_id": correlation_id.get(),
        }
        extra = getattr(record, "fields", None)
        if extra:
            entry.update({k: mask_text(v) if isinstance(v, str) else v for k, v in extra.items()})
        if record.exc_info:
            entry["exc"] = mask_text(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "kafka", "uvicorn.access", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
