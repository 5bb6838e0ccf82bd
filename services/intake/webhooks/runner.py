"""Wiring of the webhook sender into intake's runtime (called from services/intake/main.py)."""

from __future__ import annotations

from libs.common.app import Runtime
from services.intake.webhooks.sender import Sender, metric_source, purge_loop, sender_loop
from services.intake.webhooks.settings import get_webhook_settings


def start(rt: Runtime) -> Sender:  # type: ignore[type-arg]
    """The sender's figures on /metrics, and its loop (unless LAWLINE_WEBHOOK_SENDER_ENABLED=false:
    a replica that only serves the API, or a test that runs the sender itself)."""
    settings = get_webhook_settings()
    sender = Sender(rt.sessionmaker, settings)
    rt.metric_sources.append(metric_source(sender.stats, rt.service))
    if settings.sender_enabled:
        rt.spawn(sender_loop(sender), "webhook-sender")
        rt.spawn(purge_loop(sender), "webhook-purge")
    return sender
