"""Train the shipped model: `python -m services.intake.classifier.train` (or `make classifier`).

Fits one TF-IDF vocabulary and two multinomial logistic regressions (service type, domain) on
the training side of the corpus split — hand-written requests and their variants, never a
held-out group — exports them to model.bin.gz (model.py scores it without scikit-learn),
checks the export reproduces scikit-learn's probabilities, then writes REPORT.md (evaluate.py).

scikit-learn is a dev dependency only: the service loads the exported weights.
"""

from __future__ import annotations

import time
from array import array

from services.intake.classifier import corpus, evaluate
from services.intake.classifier.model import MODEL_PATH, Head, LinearModel

HEADS = ("service_type", "domain")
C = 3.0  # inverse regularisation: grouped 5-fold CV on the training side only (C=1 and C=3 within 0.01)
MIN_DF = 2  # a feature seen in one request only is noise (and size)


def featurise(rows: list[corpus.Request]) -> list[list[str]]:
    from services.intake.classify import model_features

    return [model_features(r.text) for r in rows]


def _identity(x: list[str]) -> list[str]:
    return x


def fit(train: list[corpus.Request], feats: list[list[str]]):  # type: ignore[no-untyped-def]
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=MIN_DF)
    x = vec.fit_transform(feats)
    models = {}
    for head in HEADS:
        y = [getattr(r, head) for r in train]
        # balanced: the rare services (安置帮教, 行政复议) must not lose to 咨询 by sheer numbers
        models[head] = LogisticRegression(C=C, class_weight="balanced", max_iter=5000).fit(x, y)
    return vec, models


def export(vec, models, meta: dict) -> LinearModel:  # type: ignore[no-untyped-def]
    vocab = [str(f) for f in vec.get_feature_names_out()]
    heads = {}
    for head, m in models.items():
        # features × classes, row by row: a request's few features each read one short row
        heads[head] = Head(
            classes=tuple(str(c) for c in m.classes_),
            intercept=tuple(float(b) for b in m.intercept_),
            weights=array("f", m.coef_.T.astype("float32").ravel().tolist()),
        )
    return LinearModel(vocab, array("f", vec.idf_.astype("float32").tolist()), heads, meta)


def check_parity(exported: LinearModel, vec, models, feats: list[list[str]]) -> float:  # type: ignore[no-untyped-def]
    """Largest gap between scikit-learn's probability and the exported model's (rounding only)."""
    x = vec.transform(feats)
    worst = 0.0
    for head, m in models.items():
        probs = m.predict_proba(x)
        for i, f in enumerate(feats):
            mine = dict(exported.predict(head, exported.vector(f)).ranked)
            for k, c in enumerate(m.classes_):
                worst = max(worst, abs(mine[c] - probs[i, k]))
    return worst


def main() -> None:
    t0 = time.perf_counter()
    rows = corpus.load()
    train, held = corpus.split(rows)
    feats = featurise(train)
    vec, models = fit(train, feats)
    meta = {
        "trained_on": len(train),
        "hand": sum(r.source == "hand" for r in train),
        "augmented": sum(r.source == "augmented" for r in train),
        "C": C,
        "min_df": MIN_DF,
    }
    exported = LinearModel.loads(export(vec, models, meta).dumps())  # what the service will read
    gap = check_parity(exported, vec, models, featurise(held))
    if gap > 0.01:
        raise SystemExit(f"exported model differs from scikit-learn's by {gap:.4f}")
    MODEL_PATH.write_bytes(exported.dumps())
    print(
        f"trained on {len(train)} requests ({meta['hand']} hand, {meta['augmented']} augmented), "
        f"{len(exported.vocab)} features, {MODEL_PATH.stat().st_size / 1e6:.2f} MB, parity gap {gap:.1e}, "
        f"{time.perf_counter() - t0:.0f} s"
    )
    evaluate.main()


if __name__ == "__main__":
    main()
