"""Arrival calibration of the routing simulation against seed 003 / changzhi.json."""

import json
import random
from datetime import datetime, timedelta

import pytest

from bench.sim import arrivals as arr
from libs.common import regions
from libs.common.clock import CHINA_TZ

MONDAY = datetime(2026, 3, 2, tzinfo=CHINA_TZ)


def test_volumes_add_up_to_the_city_figures():
    v = arr.county_volumes()
    assert set(v) == {c.code for c in regions.counties()}
    assert sum(x["consultation"] for x in v.values()) == pytest.approx(54_201)
    assert sum(x["legal_aid"] for x in v.values()) == pytest.approx(1_747)


def test_reported_county_figures_are_used_and_the_rest_share_the_remainder():
    figures = json.loads(arr.FIGURES.read_text(encoding="utf-8"))
    v = arr.county_volumes()
    reported = {c["code"]: c["consultations"] for c in figures["counties"] if c["consultations"] is not None}
    for code, n in reported.items():
        assert v[code]["consultation"] == n
    missing = [code for code in v if code not in reported]
    shares = {v[code]["consultation"] for code in missing}
    assert len(shares) == 1 and shares.pop() == pytest.approx(
        (54_201 - sum(reported.values())) / len(missing)
    )
    assert v["140406"]["legal_aid"] == 193  # 潞城区


def test_profile_peaks_in_working_hours_and_is_low_at_weekends():
    p = arr.week_profile()
    assert sum(p) == pytest.approx(1.0)
    tuesday_10, tuesday_3am, saturday_10 = p[1 * 24 + 10], p[1 * 24 + 3], p[5 * 24 + 10]
    assert tuesday_10 > 10 * tuesday_3am
    assert tuesday_10 > 3 * saturday_10


def test_generated_arrivals_match_the_calibrated_rate_and_are_reproducible():
    days = 14
    a = arr.generate(MONDAY, days, seed=7)
    assert a == arr.generate(MONDAY, days, seed=7)
    assert a != arr.generate(MONDAY, days, seed=8)
    expected = arr.expected_count(days, start=MONDAY)
    assert expected == pytest.approx((54_201 + 1_747) * days / 365, rel=0.01)
    # Poisson count: 4 standard deviations either way.
    assert abs(len(a) - expected) < 4 * expected**0.5
    assert all(MONDAY <= x.at < MONDAY + timedelta(days=days) for x in a)
    assert [x.at for x in a] == sorted(x.at for x in a)
    weekday = sum(1 for x in a if x.at.astimezone(CHINA_TZ).weekday() < 5)
    assert weekday / len(a) > 0.85
    assert {x.service_type for x in a} == {"consultation", "legal_aid"}


def test_region_for_stays_in_the_county():
    rng = random.Random(1)
    for _ in range(200):
        code = arr.region_for("140430", rng)
        assert regions.county_of(code) == "140430"


def test_lognormal_params_reproduce_mean_and_sd():
    mu, sigma = arr.lognormal_params(20.0, 15.0)
    rng = random.Random(3)
    xs = [rng.lognormvariate(mu, sigma) for _ in range(40_000)]
    mean = sum(xs) / len(xs)
    sd = (sum((x - mean) ** 2 for x in xs) / len(xs)) ** 0.5
    assert mean == pytest.approx(20.0, rel=0.03)
    assert sd == pytest.approx(15.0, rel=0.08)
