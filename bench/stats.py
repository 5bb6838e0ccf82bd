"""Pure statistics used by the benchmarks and the routing simulation (no I/O, unit-tested)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (numpy's default 'linear' method); p in [0, 100]."""
    if not values:
        return float("nan")
    if not 0 <= p <= 100:
        raise ValueError("p must be within [0, 100]")
    xs = sorted(values)
    k = (len(xs) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/mean/max of durations given in seconds, reported in milliseconds."""
    if not seconds:
        return {"n": 0}
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "mean": round(sum(ms) / len(ms), 2),
        "p50": round(percentile(ms, 50), 2),
        "p95": round(percentile(ms, 95), 2),
        "p99": round(percentile(ms, 99), 2),
        "max": round(max(ms), 2),
    }


def gini(values: Sequence[float]) -> float:
    """Gini coefficient of non-negative values: 0 = perfectly even, → 1 = one takes all."""
    xs = sorted(float(v) for v in values)
    n = len(xs)
    if n == 0:
        return 0.0
    if any(x < 0 for x in xs):
        raise ValueError("gini needs non-negative values")
    total = sum(xs)
    if total == 0:
        return 0.0
    # G = Σ (2i − n − 1)·x_i / (n·Σx), i = 1..n over ascending values.
    return sum((2 * i - n - 1) * x for i, x in enumerate(xs, start=1)) / (n * total)


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival must wait in an M/M/c queue with offered load a = λ/μ.

    Computed with the Erlang-B recursion (numerically stable for large c):
    B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)); C = c·B / (c − a·(1 − B)).
    Returns 1.0 when the queue is unstable (a ≥ c)."""
    if c <= 0:
        return 1.0
    if a <= 0:
        return 0.0
    if a >= c:
        return 1.0
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1 - b))


def erlang_c_wait(c: int, lam: float, mean_service: float, cv2: float = 1.0) -> float:
    """Mean wait in queue of c pooled servers, arrival rate lam, mean service time mean_service.

    M/M/c (cv2 = 1): Wq = C(c, a)·E[S] / (c − a). For general service times the
    Allen–Cunneen approximation scales it by (1 + CV_s²)/2 (Poisson arrivals). Infinite
    when the pool is overloaded."""
    if lam <= 0:
        return 0.0
    a = lam * mean_service
    if c <= 0 or a >= c:
        return math.inf
    return erlang_c(c, a) * mean_service / (c - a) * (1 + cv2) / 2


def batch_clear_wait(batch: int, c: int, mean_service: float) -> float:
    """Mean wait of a batch of `batch` orders that meets c idle pooled servers at once
    (fluid approximation: the k-th order starts after ⌊k/c⌋ mean service times)."""
    if batch <= 0:
        return 0.0
    if c <= 0:
        return math.inf
    return mean_service * sum(k // c for k in range(batch)) / batch
