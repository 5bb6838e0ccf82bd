"""SMS to citizens (issue #19 item 4): templates without personal data, a message outbox written
in the transaction of the order's event, a sender that sends each message once through a
pluggable gateway (Aliyun dysmsapi, or a development file), opt-out and per-number limits.

Intake's one hook: `services.intake.service.enqueue_prepared` calls `on_events`."""

from services.intake.sms.enqueue import on_events

__all__ = ["on_events"]
