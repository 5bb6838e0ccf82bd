"""What a new order records of its kind, and which outcome it has (services.intake.domain)."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.intake import domain


@dataclass
class Result:  # the shape of services.intake.classify.Classification that resolve reads
    service_type: str = "consultation"
    domain: str = "labor"
    service_confidence: float = 0.9
    domain_confidence: float = 0.3
    special_groups: list[str] = field(default_factory=lambda: ["migrant_worker"])
    urgency: str = "normal"

    def as_dict(self) -> dict:
        return {"service_type": self.service_type, "domain": self.domain}


def resolve(**kw):  # type: ignore[no-untyped-def]
    args = dict(
        service_type=None,
        domain=None,
        special_groups=[],
        urgency=None,
        result=Result(),
        groups_from_id=set(),
        answered_on_call=False,
    )
    return domain.resolve_classification(**(args | kw))


def test_the_classifier_fills_what_the_client_left_out_and_says_how() -> None:
    r = resolve(special_groups=["elderly"], groups_from_id={"minor"})
    assert (r.service_type, r.domain, r.urgency, r.auto) == ("consultation", "labor", "normal", True)
    assert r.special_groups == ["elderly", "migrant_worker", "minor"]
    assert r.classification["by"] == "auto" and r.classification["detected_special_groups"] == [
        "migrant_worker"
    ]
    assert r.uncertain  # the domain was chosen at 0.3
    mixed = resolve(domain="labor")
    assert mixed.classification["by"] == "mixed" and mixed.auto
    assert not mixed.uncertain  # the low-confidence domain was the client's word; the type is sure
    client = resolve(service_type="legal_aid", domain="labor", urgency="urgent")
    assert (client.service_type, client.urgency, client.auto, client.uncertain) == (
        "legal_aid",
        "urgent",
        False,
        False,
    )
    assert client.classification["by"] == "client"


def test_the_type_given_does_not_hide_an_uncertain_domain() -> None:
    r = resolve(service_type="consultation")
    assert r.uncertain and r.classification["by"] == "mixed"


def test_answered_on_the_call_is_a_consultation_and_closes_never_urges() -> None:
    r = resolve(service_type="legal_aid", answered_on_call=True)
    assert r.service_type == "consultation" and r.classification["by"] == "mixed"
    urge = domain.DuplicateDecision("urge", "x", 0.9)
    assert domain.outcome(urge, answered_on_call=True) == "answered"
    assert domain.outcome(urge, answered_on_call=False) == "urge"
    assert domain.outcome(domain.DuplicateDecision("follow_up", "y", 0.8), answered_on_call=False) == "new"
    assert domain.outcome(domain.DuplicateDecision("new"), answered_on_call=False) == "new"
