"""Rules and model, combined: a pure decision per label (no I/O).

The rule book is sure when its best label scored at least SURE — a term that names the label
outright (公证, 行政复议, 社区矫正 weigh 5–6 in rules.py) — and leads the runner-up by MARGIN;
then the rules decide and their matched terms are the evidence, as before #19. Otherwise the
model decides, with its probability as the confidence; the evidence is what the rules matched
for the model's label if anything, else the text's words that pushed the model hardest
towards it, so the operator still sees why.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.intake.classifier.features import Ranked
from services.intake.classifier.model import Prediction

SURE = 5.0
MARGIN = 2.0


@dataclass(frozen=True)
class Decision:
    label: str
    confidence: float
    evidence: list[str]
    method: str  # "rules" | "model"


# Feedback about a service names the service ("调解员向着人家说话", "希望公证处开通网上预约"): with
# these labels in the rules' list, a term naming another service is not sure evidence of it.
FEEDBACK = frozenset({"complaint", "suggestion"})
FEEDBACK_SCORE = 2.0


def rules_sure(ranked: Ranked) -> bool:
    top = ranked[0][0]
    second = ranked[1][0] if len(ranked) > 1 else 0.0
    return top >= SURE and top - second >= MARGIN


def about_a_service(ranked: Ranked) -> bool:
    """The rules heard a complaint or a suggestion, and their best label is another one."""
    if not ranked or ranked[0][1] in FEEDBACK:
        return False
    return any(lab in FEEDBACK and score >= FEEDBACK_SCORE for score, lab, _ in ranked)


def decide(ranked: Ranked, pred: Prediction, *, min_score: float, feedback_aware: bool = False) -> Decision:
    """`min_score`: a rule label below it is no evidence (the domain rules' floor for "other").
    `feedback_aware` (service types): feedback about a service leaves the decision to the model."""
    probs = dict(pred.ranked)
    if rules_sure(ranked) and not (feedback_aware and about_a_service(ranked)):
        score, label, hits = ranked[0]
        # The rules' margin-based confidence, raised if the model agrees more strongly.
        second = ranked[1][0] if len(ranked) > 1 else 0.0
        rule_conf = min(0.99, score / (score + max(second, 0.0) + 1.0))
        return Decision(label, round(max(rule_conf, probs.get(label, 0.0)), 2), list(hits), "rules")
    hits = next((h for s, lab, h in ranked if lab == pred.label and s >= max(min_score, 1.0)), [])
    return Decision(pred.label, round(min(pred.probability, 0.99), 2), list(hits or pred.features), "model")
