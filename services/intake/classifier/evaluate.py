"""Evaluate the shipped classifier: `python -m services.intake.classifier.evaluate`.

Prints and writes REPORT.md: per-class precision/recall/F1 (sklearn's classification_report)
for service type and domain on the held-out groups — never trained on — for rules + model
as the service runs them, with rules alone and model alone beside it; urgency and special
groups against the corpus labels; and the 40 labelled samples of /work/shared/data as a
separate test. Needs scikit-learn (a dev dependency) for the report only.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from services.intake.classifier import corpus
from services.intake.validation import SERVICE_TYPE_ALIASES

REPORT = Path(__file__).with_name("REPORT.md")
SAMPLE = Path(os.environ.get("LAWLINE_REQUESTS_SAMPLE", "/work/shared/data/requests-sample.jsonl"))


def _acc(pairs: Sequence[tuple[object, object]]) -> float:
    return round(sum(a == b for a, b in pairs) / len(pairs), 3) if pairs else 0.0


def predictions(rows: list[corpus.Request]) -> dict[str, list[tuple[str, str]]]:
    """(service type, domain) per row for the three ways of classifying."""
    from services.intake import classify as c
    from services.intake.classifier import model

    m = model.shipped()
    out: dict[str, list[tuple[str, str]]] = {"combined": [], "rules": [], "model": []}
    for r in rows:
        both = c.classify(r.text)
        out["combined"].append((both.service_type, both.domain))
        rules = c.classify_rules(r.text)
        out["rules"].append((rules.service_type, rules.domain))
        vec = m.vector(c.model_features(r.text))
        out["model"].append((m.predict("service_type", vec).label, m.predict("domain", vec).label))
    return out


def sample_rows() -> list[dict]:
    if not SAMPLE.exists():
        return []
    return [json.loads(x) for x in SAMPLE.read_text(encoding="utf-8").splitlines() if x.strip()]


def main() -> None:
    from services.intake import classify as c

    t0 = time.perf_counter()
    rows = corpus.load()
    train, held = corpus.split(rows)
    preds = predictions(held)
    lines = _header(rows, train, held)
    lines += _accuracy_table(held, preds)
    lines += _class_reports(held, preds)
    # Urgency and special groups are rules (classify.detect_urgency / detect_groups), so every
    # hand-written request tests them.
    lines += _rules_section([r for r in rows if r.source == "hand"], c.classify_rules)
    lines += _fresh_section(corpus.read(corpus.FRESH), c.classify, c.classify_rules)
    lines += _sample_section(sample_rows(), c.classify)
    text = "\n".join(lines) + "\n"
    REPORT.write_text(text, encoding="utf-8")
    print(text)
    print(f"evaluated in {time.perf_counter() - t0:.0f} s → {REPORT}")


def _header(rows: list[corpus.Request], train: list[corpus.Request], held: list[corpus.Request]) -> list[str]:
    hand = [r for r in held if r.source == "hand"]
    return [
        "# Intake classifier — held-out evaluation",
        "",
        "Written by `python -m services.intake.classifier.evaluate` (also run by `train`). The held-out",
        f"split is one group in {corpus.HELD_OUT_BUCKETS} (a hand-written request with all its variants), never trained on.",
        "",
        f"Corpus: {sum(r.source == 'hand' for r in rows)} hand-written + "
        f"{sum(r.source == 'augmented' for r in rows)} augmented = {len(rows)} requests; "
        f"training {len(train)}, held out {len(held)} ({len(hand)} hand-written).",
        "",
    ]


def _accuracy_table(held: list[corpus.Request], preds: dict[str, list[tuple[str, str]]]) -> list[str]:
    lines = [
        "## Accuracy on the held-out split",
        "",
        "| classifier | service type (all) | domain (all) | service type (hand only) | domain (hand only) |",
        "| --- | --- | --- | --- | --- |",
    ]
    is_hand = [r.source == "hand" for r in held]
    labels = {
        "combined": "rules + model (shipped)",
        "rules": "rules alone (before #19)",
        "model": "model alone",
    }
    for name, label in labels.items():
        p = preds[name]
        st = _acc([(a[0], r.service_type) for a, r in zip(p, held, strict=True)])
        dm = _acc([(a[1], r.domain) for a, r in zip(p, held, strict=True)])
        sth = _acc([(a[0], r.service_type) for a, r, h in zip(p, held, is_hand, strict=True) if h])
        dmh = _acc([(a[1], r.domain) for a, r, h in zip(p, held, is_hand, strict=True) if h])
        lines.append(f"| {label} | {st} | {dm} | {sth} | {dmh} |")
    return lines


def _class_reports(held: list[corpus.Request], preds: dict[str, list[tuple[str, str]]]) -> list[str]:
    from sklearn.metrics import classification_report

    lines: list[str] = []
    for i, head in enumerate(("service_type", "domain")):
        report = classification_report(
            [getattr(r, head) for r in held], [p[i] for p in preds["combined"]], digits=3, zero_division=0
        )
        lines += [
            "",
            f"## {head} — rules + model, held-out (all {len(held)})",
            "",
            "```",
            report.rstrip(),
            "```",
        ]
    return lines


def _rules_section(hand_all: list[corpus.Request], classify_rules: Callable[[str], Any]) -> list[str]:
    got = [classify_rules(r.text) for r in hand_all]
    urg = _acc([(g.urgency, r.urgency) for g, r in zip(got, hand_all, strict=True)])
    urgent_flag = _acc(
        [(g.urgency != "normal", r.urgency != "normal") for g, r in zip(got, hand_all, strict=True)]
    )
    groups = _acc(
        [(tuple(g.special_groups), tuple(r.special_groups)) for g, r in zip(got, hand_all, strict=True)]
    )
    n_urgent = sum(r.urgency != "normal" for r in hand_all)
    return [
        "",
        f"## Urgency and special groups (rules), all {len(hand_all)} hand-written requests",
        "",
        f"- urgency level exact: {urg}; urgent-or-not: {urgent_flag} ({n_urgent} labelled urgent or critical)",
        f"- special groups exact set: {groups}",
    ]


def _fresh_section(
    fresh: list[corpus.Request], classify: Callable[[str], Any], classify_rules: Callable[[str], Any]
) -> list[str]:
    got_f = [classify(r.text) for r in fresh]
    rules_f = [classify_rules(r.text) for r in fresh]
    return [
        "",
        f"## {len(fresh)} fresh requests (corpus/fresh.jsonl: written after the model was frozen, never trained on)",
        "",
        "| classifier | service type | domain |",
        "| --- | --- | --- |",
        f"| rules + model (shipped) | {_acc([(g.service_type, r.service_type) for g, r in zip(got_f, fresh, strict=True)])} "
        f"| {_acc([(g.domain, r.domain) for g, r in zip(got_f, fresh, strict=True)])} |",
        f"| rules alone | {_acc([(g.service_type, r.service_type) for g, r in zip(rules_f, fresh, strict=True)])} "
        f"| {_acc([(g.domain, r.domain) for g, r in zip(rules_f, fresh, strict=True)])} |",
    ]


def _sample_section(sample: list[dict], classify: Callable[[str], Any]) -> list[str]:
    if not sample:
        return []
    res = [classify(s["text"]) for s in sample]
    st = _acc(
        [
            (x.service_type, SERVICE_TYPE_ALIASES.get(s["service"], s["service"]))
            for x, s in zip(res, sample, strict=True)
        ]
    )
    dm = _acc([(x.domain, s["domain"]) for x, s in zip(res, sample, strict=True)])
    return [
        "",
        f"## The {len(sample)} labelled samples (/work/shared/data, not in the corpus)",
        "",
        f"- rules + model: service type {st}, domain {dm}",
    ]


if __name__ == "__main__":
    main()
