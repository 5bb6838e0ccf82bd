"""Phones, resident ID numbers, regions and taxonomies — pure, no I/O."""

from __future__ import annotations

from datetime import date

import pytest

from services.intake import validation as v


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13834567890", "13834567890"),
        ("+86 138 3456 7890", "13834567890"),
        ("0086-13834567890", "13834567890"),
        ("0355-2021234", "0355-2021234"),
        ("03552021234", "0355-2021234"),
        ("(010) 12345678", "010-12345678"),
        ("021-87654321", "021-87654321"),
    ],
)
def test_phones_normalise(raw, expected):
    assert v.normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "12834567890", "2021234", "0355-12", "138345678901", "", "电话"])
def test_bad_phones_say_why_in_both_languages(raw):
    with pytest.raises(ValueError) as exc:
        v.normalise_phone(raw)
    zh, _, en = str(exc.value).partition(" | ")
    assert "区号" in zh and "area code" in en


def test_check_digit_matches_the_iso_7064_mod_11_2_reference():
    # GB 11643-1999 worked example: 11010519491231002 → X
    assert v.id_check_digit("11010519491231002") == "X"
    assert v.normalise_id_number("11010519491231002x") == "11010519491231002X"


def make(first17: str) -> str:
    return first17 + v.id_check_digit(first17)


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("1404301965021500", "18 位"),
        ("14043019650215002A", "18 位"),
        (make("99043019650215002"), "省级"),
        (make("14043019650230002"), "出生日期"),
        (make("14043020990101002"), "出生日期"),
        (make("14043018000101002"), "出生日期"),
        (make("14043019650215002")[:-1] + ("0" if make("14043019650215002")[-1] != "0" else "1"), "校验位"),
    ],
)
def test_bad_id_numbers(raw, needle):
    with pytest.raises(ValueError) as exc:
        v.normalise_id_number(raw, today=date(2026, 11, 24))
    assert needle in str(exc.value)


def test_age_from_id():
    idn = make("14043019661125002")
    assert v.age_on(idn, date(2026, 11, 24)) == 59
    assert v.age_on(idn, date(2026, 11, 25)) == 60


def test_regions_resolve_village_to_county():
    assert v.region_path("140430001001") == {
        "village": "140430001001",
        "township": "140430001",
        "county": "140430",
    }
    assert v.resolve_region("140430").level == "county"
    for bad in ("140400", "140000", "999999", "140430999"):
        with pytest.raises(ValueError):
            v.resolve_region(bad)


def test_taxonomies():
    assert v.service_type("admin_reconsideration") == "administrative_reconsideration"
    assert len(v.DOMAINS) == 16 and len(v.SPECIAL_GROUPS) == 8
    assert v.special_groups(["minor", "elderly", "minor"]) == ["elderly", "minor"]
    for fn, bad in ((v.service_type, "divorce"), (v.domain, "tax"), (v.special_groups, ["rich"])):
        with pytest.raises(ValueError):
            fn(bad)
