"""The sender loop of a running intake: the configured gateway, a run every interval
(libs.common.periodic), the gateway closed when the service stops."""

from __future__ import annotations

import logging

from libs.common.app import Runtime
from libs.common.periodic import Periodic
from services.intake.sms.aliyun import AliyunGateway
from services.intake.sms.gateway import FileGateway, SmsGateway
from services.intake.sms.sender import SmsSender
from services.intake.sms.settings import SmsSettings, get_sms_settings

log = logging.getLogger(__name__)


def build_gateway(s: SmsSettings) -> SmsGateway:
    """The provider the configuration names (LAWLINE_SMS_PROVIDER)."""
    if s.provider == "aliyun":
        return AliyunGateway(s)
    return FileGateway(s.outbox_file)


def metric_source(sender: SmsSender):  # type: ignore[no-untyped-def]
    """This process's sender outcomes for /metrics (libs.common.metrics)."""
    from prometheus_client.core import CounterMetricFamily

    def collect():  # type: ignore[no-untyped-def]
        family = CounterMetricFamily(
            "lawline_sms_messages",
            "SMS messages by outcome: sent, retry, failed, limited, opted_out",
            labels=["service", "provider", "outcome"],
        )
        for outcome, n in sorted(sender.counts.items()):
            family.add_metric(["intake", sender.gateway.name, outcome], n)
        return [family]

    return collect


async def sender_loop(rt: Runtime) -> None:
    s = get_sms_settings()
    if not s.enabled:
        return
    gateway = build_gateway(s)
    log.info("sms: sending through %s", gateway.name)
    sender = SmsSender(rt.sessionmaker, rt.clock, gateway, s)
    rt.metric_sources.append(metric_source(sender))
    try:
        await Periodic(s.send_interval_seconds, sender.run_once, name="sms sender").run()
    finally:
        await gateway.aclose()
