"""Feature names of a text, identical at training and at run time: the model's vocabulary is
a set of these strings. Word features (jieba tokens, with intake's legal terms in its
dictionary) carry meaning; character bi- and trigrams survive what words do not — typos and
homophones (工姿, 离昏), dialect spellings and ASR splits that jieba cuts differently."""

from __future__ import annotations

import re

HEAD_CHARS = 30
_NOT_TEXT = re.compile(r"[\W_\d]+", re.UNICODE)  # punctuation, spaces and digits carry no class


def features(text: str, tokens: list[str]) -> list[str]:
    """`tokens` are the jieba tokens of `text` (services.intake.classify.tokens)."""
    out = [f"w:{t}" for t in tokens if not _NOT_TEXT.fullmatch(t)]
    # The opening words again, marked: a caller with several matters leads with the one the
    # call is about ("…，还有个事，…" comes after), so what comes first weighs more.
    seen = 0
    for t in tokens:
        if seen >= HEAD_CHARS:
            break
        seen += len(t)
        if not _NOT_TEXT.fullmatch(t):
            out.append(f"h:{t}")
    chars = _NOT_TEXT.sub("", text)
    for n in (2, 3):
        out += [f"c:{chars[i : i + n]}" for i in range(len(chars) - n + 1)]
    return out


Ranked = list[tuple[float, str, list[str]]]  # (score, label, matched terms), best first


def rule_features(services: Ranked, domains: Ranked) -> list[str]:
    """The rule book's verdict as features: a label whose rules scored at least 2 adds
    `rs:`/`rd:` + label once per point (capped at 12; sublinear TF flattens it further). The
    model learns from the corpus how far to trust each rule — 公证 almost always, 老板 less."""
    out: list[str] = []
    for prefix, ranked in (("rs", services), ("rd", domains)):
        for score, label, _ in ranked:
            if score >= 2:
                out += [f"{prefix}:{label}"] * int(min(score, 12))
    return out
