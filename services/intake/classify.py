"""Classification of free Chinese text: service type, legal domain, special groups and
urgency signals, with a confidence and the evidence (matched terms) that decided it.

Keyword and phrase rules with weights, on jieba tokens (every rule term is added to
jieba's dictionary so legal phrases stay whole). A term that is a whole token counts
fully; one found only inside a longer token counts 0.8 — "公司" inside "物业公司" is
weaker evidence than "公司" alone. Patterns prefixed `re:` are regular expressions for
phrasings with gaps ("没钱请律师", "请一位…律师"). Rules are data: operators' overrides
(table `classification_overrides`) show which terms are missing.

Service type and domain are then decided with the statistical model shipped in
`services/intake/classifier/` (#19): the rules are trusted alone where they are sure — a
term that names the label outright and a clear margin (`combine.decide`) — and the model,
which also sees the rules' verdict as features, decides the rest. No model download: the
model is a file in the package, loaded at start-up by warm_up.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field

import jieba

from services.intake.classifier import combine, features, model
from services.intake.rules import (
    CONSULTATION_BASE,
    DOMAIN_RULES,
    GROUP_RULES,
    SERVICE_RULES,
    URGENCY_RULES,
)

jieba.setLogLevel(logging.WARNING)
_lock = threading.Lock()
_ready = False
MIN_DOMAIN_SCORE = 2.0  # below this the text names no domain we know: "other"


@dataclass
class Classification:
    service_type: str
    domain: str
    service_confidence: float
    domain_confidence: float
    evidence: dict[str, list[str]] = field(default_factory=dict)
    special_groups: list[str] = field(default_factory=list)
    urgency: str = "normal"
    urgency_signals: list[str] = field(default_factory=list)
    # Which half decided each label: "rules" (sure by the rule book) or "model".
    method: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "service_type": self.service_type,
            "domain": self.domain,
            "service_confidence": self.service_confidence,
            "domain_confidence": self.domain_confidence,
            "evidence": self.evidence,
            "special_groups": self.special_groups,
            "urgency": self.urgency,
            "urgency_signals": self.urgency_signals,
            "method": self.method,
        }


def _terms() -> set[str]:
    out: set[str] = set()
    for rules in (*SERVICE_RULES.values(), *DOMAIN_RULES.values(), *GROUP_RULES.values()):
        out.update(t for t, _ in rules if not t.startswith("re:"))
    for terms in URGENCY_RULES.values():
        out.update(t for t, _ in terms if not t.startswith("re:"))
    return out


def warm_up(*, with_model: bool = True) -> None:
    """Load jieba's dictionary once (≈1 s) and teach it our legal terms; then the shipped model
    (≈0.1 s), so the first order filed after start-up does not pay for either."""
    global _ready
    with _lock:
        if not _ready:
            jieba.initialize()
            for term in _terms():
                if len(term) > 1:
                    jieba.add_word(term, freq=20000)
            _ready = True
    if with_model:
        model.shipped()


def tokens(text: str) -> list[str]:
    warm_up(with_model=False)  # train.py tokenises before any model exists
    return [t for t in jieba.lcut(text) if t.strip()]


def _score(text: str, toks: set[str], rules: list[tuple[str, float]]) -> tuple[float, list[str]]:
    score, hits = 0.0, []
    for term, pattern, weight in _compiled(rules):
        if pattern is not None:
            m = pattern.search(text)
            if m:
                score += weight
                hits.append(m.group(0))
        elif term in text:  # a token is in the text too: one substring test rules most terms out
            score += weight if term in toks else weight * 0.8
            hits.append(term)
    return score, hits


_Compiled = list[tuple[str, re.Pattern[str] | None, float]]
_COMPILED: dict[int, tuple[list[tuple[str, float]], _Compiled]] = {}


def _compiled(rules: list[tuple[str, float]]) -> _Compiled:
    """The rule list with its "re:" patterns compiled, once per list (the tables are module
    constants): every new order is scored against all of them."""
    found = _COMPILED.get(id(rules))
    if found is None or found[0] is not rules:  # keeps the list: its id cannot be reused
        found = _COMPILED[id(rules)] = (
            rules,
            [(t, re.compile(t[3:]) if t.startswith("re:") else None, w) for t, w in rules],
        )
    return found[1]


def _rank(text: str, toks: set[str], table: dict[str, list[tuple[str, float]]], base: dict[str, float]):
    scored = []
    for label, rules in table.items():
        s, hits = _score(text, toks, rules)
        scored.append((s + base.get(label, 0.0), label, hits))
    scored.sort(key=lambda x: -x[0])
    return scored


def _confidence(top: float, second: float) -> float:
    """Margin-based: a clear winner with strong evidence → close to 1."""
    if top <= 0:
        return 0.0
    return round(min(0.99, top / (top + max(second, 0.0) + 1.0)), 2)


_CN_TENS = {"六": 60, "七": 70, "八": 80, "九": 90}


def _ages(text: str) -> list[int]:
    ages = [int(a) for a in re.findall(r"(?<!\d)(\d{1,3})\s*(?:周岁|岁)", text)]
    # "我七十多了", "今年八十岁": spoken ages in Chinese numerals (elderly callers say it this way).
    ages += [
        _CN_TENS[t]
        for t in re.findall(r"(?:我|今年|已经)([六七八九])十(?:多|几|[一二三四五六七八九])?(?:岁|了)", text)
    ]
    return ages


def detect_groups(text: str, toks: set[str]) -> tuple[list[str], list[str]]:
    groups, evidence = set(), []
    for group, rules in GROUP_RULES.items():
        s, hits = _score(text, toks, rules)
        if s > 0:
            groups.add(group)
            evidence += hits
    for age in _ages(text):
        if age >= 60:  # 老年人权益保障法 Art 2: 60 and over
            groups.add("elderly")
            evidence.append(f"{age}岁")
        elif age < 18:  # 未成年人保护法 Art 2: under 18
            groups.add("minor")
            evidence.append(f"{age}岁")
    return sorted(groups), evidence


def detect_urgency(text: str, toks: set[str]) -> tuple[str, list[str]]:
    for level in ("critical", "urgent"):
        s, hits = _score(text, toks, URGENCY_RULES[level])
        if s > 0:
            return level, hits
    return "normal", []


def rank_rules(text: str, toks: set[str]) -> tuple[features.Ranked, features.Ranked]:
    """The rule book's ranking of service types and domains (best first)."""
    return (
        _rank(text, toks, SERVICE_RULES, {"consultation": CONSULTATION_BASE}),
        _rank(text, toks, DOMAIN_RULES, {}),
    )


def classify_rules(text: str) -> Classification:
    """The rule book alone (the classifier before #19): kept to measure what the model adds."""
    text = re.sub(r"\s+", "", text or "")
    toks = set(tokens(text))
    services, domains = rank_rules(text, toks)
    s_top, d_top = services[0], domains[0]
    if d_top[0] < MIN_DOMAIN_SCORE:
        domain, d_conf, d_hits = "other", 0.3, []
    else:
        domain, d_conf, d_hits = d_top[1], _confidence(d_top[0], domains[1][0]), d_top[2]
    groups, g_hits = detect_groups(text, toks)
    urgency, u_hits = detect_urgency(text, toks)
    return Classification(
        service_type=s_top[1],
        domain=domain,
        service_confidence=_confidence(s_top[0], services[1][0]),
        domain_confidence=d_conf,
        evidence={"service_type": s_top[2], "domain": d_hits, "special_groups": g_hits},
        special_groups=groups,
        urgency=urgency,
        urgency_signals=u_hits,
        method={"service_type": "rules", "domain": "rules"},
    )


@dataclass(frozen=True)
class _Prepared:
    text: str
    toks: list[str]
    services: features.Ranked
    domains: features.Ranked
    feats: list[str]


def _prepare(text: str) -> _Prepared:
    text = re.sub(r"\s+", "", text or "")
    toks = tokens(text)
    services, domains = rank_rules(text, set(toks))
    return _Prepared(
        text,
        toks,
        services,
        domains,
        features.features(text, toks) + features.rule_features(services, domains),
    )


def model_features(text: str) -> list[str]:
    """What the model sees of a text; train.py and evaluate.py use this very function."""
    return _prepare(text).feats


def classify(text: str) -> Classification:
    p = _prepare(text)
    text, toks, services, domains = p.text, set(p.toks), p.services, p.domains
    m = model.shipped()
    vec = m.vector(p.feats)
    s = combine.decide(services, m.predict("service_type", vec), min_score=0.0, feedback_aware=True)
    d = combine.decide(domains, m.predict("domain", vec), min_score=MIN_DOMAIN_SCORE)
    groups, g_hits = detect_groups(text, toks)
    urgency, u_hits = detect_urgency(text, toks)
    return Classification(
        service_type=s.label,
        domain=d.label,
        service_confidence=s.confidence,
        domain_confidence=d.confidence,
        evidence={"service_type": s.evidence, "domain": d.evidence, "special_groups": g_hits},
        special_groups=groups,
        urgency=urgency,
        urgency_signals=u_hits,
        method={"service_type": s.method, "domain": d.method},
    )


_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
_STOP = set("的了我是在有和就不也还都想要把被给说吗呢啊吧")


def _bigrams(text: str) -> set[str]:
    chars = "".join(c for c in _PUNCT.sub("", text) if c not in _STOP)
    return {chars[i : i + 2] for i in range(len(chars) - 1)}


def similarity(a: str, b: str) -> float:
    """How alike two descriptions are (duplicate detection, 并单): the mean of the Jaccard index of
    their content words (jieba search mode, so 拖欠工资 also yields 拖欠 and 工资) and the Dice
    coefficient of their character bigrams (robust to different word splits)."""
    warm_up(with_model=False)
    ta = {t for t in jieba.lcut_for_search(a) if len(t) > 1 and not _PUNCT.fullmatch(t)}
    tb = {t for t in jieba.lcut_for_search(b) if len(t) > 1 and not _PUNCT.fullmatch(t)}
    words = len(ta & tb) / len(ta | tb) if ta and tb else 0.0
    ba, bb = _bigrams(a), _bigrams(b)
    chars = 2 * len(ba & bb) / (len(ba) + len(bb)) if ba and bb else 0.0
    return round((words + chars) / 2, 3)
