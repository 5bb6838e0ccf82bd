"""Every Kafka topic name, in one place.

Keys: the county code of the order's jurisdiction on work-order and dispatch topics
(one consumer owns one county's staff state); the case id on aid and mediation topics.
`LAWLINE_TOPIC_PREFIX` isolates test runs that share a broker.
"""

from __future__ import annotations

from libs.common.config import get_settings

PARTITIONS = 12  # one per county of the demo city; more counties share partitions

_BASE = {
    "workorder": "lawline.workorder.v1",
    "dispatch": "lawline.dispatch.v1",
    "aid": "lawline.aid.v1",
    "mediation": "lawline.mediation.v1",
    "dead_letter": "lawline.deadletter.v1",
    # Key = key id / jti. Kept 7 days; identity announces a whole credential snapshot at least
    # daily, so a starting service rebuilds its credential cache from the topic alone.
    "identity": "lawline.identity.v1",
}


def topic(name: str, prefix: str | None = None) -> str:
    prefix = get_settings().topic_prefix if prefix is None else prefix
    return prefix + _BASE[name]


def all_topics(prefix: str | None = None) -> list[str]:
    return [topic(n, prefix) for n in _BASE]


def epoch_topic(prefix: str | None = None) -> str:
    """One partition, never compacted or expired: its first record names the broker's epoch
    (libs.common.broker_watch). A broker that lost its data has lost this record too."""
    prefix = get_settings().topic_prefix if prefix is None else prefix
    return prefix + "lawline.epoch.v1"


WORKORDER = "workorder"
DISPATCH = "dispatch"
AID = "aid"
MEDIATION = "mediation"
DEAD_LETTER = "dead_letter"
IDENTITY = "identity"
