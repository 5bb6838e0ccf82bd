"""Status push-back to the external systems that sent orders (issue #19 item 3): webhooks.

An external system (API key or external_system token) subscribes a URL to its own orders'
events — accepted, assigned, answered, closed (with the result), rated — in our format or the
12345 platform's 办结反馈 (formats.py). Deliveries are written in the transaction of the state
change (record.py: the outbox idea), signed with HMAC-SHA256 (signing.py), sent by a loop every
replica runs (sender.py: FOR UPDATE SKIP LOCKED), retried with backoff for 24 h, every attempt
logged, replayable, and the subscription disabled with an alert after 24 h of failure (api.py,
sender.py). Targets are checked against SSRF (targets.py). Tables: models.py, migration 0010.

Hooks into intake: services/intake/service.enqueue_prepared (intake's own events) and
services/intake/handlers.py (dispatch.assigned as it is folded), one call each into record.py;
services/intake/main.py starts the sender (runner.start) and mounts api.router."""
