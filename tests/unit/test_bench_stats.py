"""The pure statistics behind the benchmark figures (no timing asserted here)."""

import math

import pytest

from bench.stats import batch_clear_wait, erlang_c, erlang_c_wait, gini, percentile, summary_ms


def test_erlang_c_single_server_is_utilisation():
    # M/M/1: the probability of waiting equals ρ.
    for rho in (0.1, 0.5, 0.9):
        assert erlang_c(1, rho) == pytest.approx(rho)


def test_erlang_c_matches_textbook_values():
    # Two servers, a = 1: C = a²/(2·(2−a)) / (1 + a + a²/(2·(2−a))) = 1/3.
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # Closed form check for c = 5, a = 1.5 from the sum definition.
    c, a = 5, 1.5
    top = a**c / math.factorial(c) * c / (c - a)
    expected = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    assert erlang_c(c, a) == pytest.approx(expected)


def test_erlang_c_edges():
    assert erlang_c(3, 0.0) == 0.0
    assert erlang_c(3, 3.0) == 1.0
    assert erlang_c_wait(3, 0.0, 600) == 0.0
    assert erlang_c_wait(2, 1 / 300, 600) == math.inf  # a = 2 = c: unstable


def test_erlang_c_wait_mm1_and_allen_cunneen():
    lam, s = 1 / 120, 60.0  # ρ = 0.5: Wq = ρ·S/(1−ρ) = 60 s
    assert erlang_c_wait(1, lam, s) == pytest.approx(60.0)
    # Deterministic-like service (CV² = 0) halves it (Pollaczek–Khinchine for M/D/1).
    assert erlang_c_wait(1, lam, s, cv2=0.0) == pytest.approx(30.0)


def test_pooling_more_servers_never_waits_longer_at_same_utilisation():
    s = 600.0
    waits = [erlang_c_wait(c, 0.7 * c / s, s) for c in (1, 2, 5, 10)]
    assert waits == sorted(waits, reverse=True)


def test_batch_clear_wait():
    assert batch_clear_wait(0, 3, 60) == 0.0
    assert batch_clear_wait(3, 3, 60) == 0.0  # everyone starts at once
    assert batch_clear_wait(4, 2, 60) == pytest.approx((0 + 0 + 60 + 60) / 4)


def test_gini():
    assert gini([5, 5, 5, 5]) == 0.0
    assert gini([0, 0, 0, 10]) == pytest.approx(0.75)  # (n−1)/n when one takes all
    assert gini([]) == 0.0
    assert gini([0, 0]) == 0.0
    assert gini([1, 3]) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        gini([-1, 2])


def test_percentile_linear_interpolation():
    xs = [10, 20, 30, 40, 50]
    assert percentile(xs, 0) == 10
    assert percentile(xs, 50) == 30
    assert percentile(xs, 100) == 50
    assert percentile(xs, 90) == pytest.approx(46)
    assert percentile([7], 99) == 7
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile(xs, 101)


def test_summary_ms():
    s = summary_ms([0.001, 0.002, 0.003])
    assert s["n"] == 3 and s["p50"] == 2.0 and s["max"] == 3.0
    assert summary_ms([]) == {"n": 0}
