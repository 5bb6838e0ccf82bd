"""libs/common/pii.py: what a document may state of a person without printing their ID number."""

from __future__ import annotations

from datetime import date

from libs.common.pii import id_particulars


def test_id_particulars_give_sex_and_age_on_a_day_and_nothing_for_a_non_id():
    assert id_particulars("140403198001010024", date(2026, 3, 2)) == ("女", 46)
    assert id_particulars("140403198003050013", date(2026, 3, 4)) == ("男", 45)  # birthday not yet
    assert id_particulars("140403198003050013", date(2026, 3, 5)) == ("男", 46)
    assert id_particulars("1404031980", date(2026, 3, 5)) is None
    assert id_particulars("140403198013450013", date(2026, 3, 5)) is None  # no 13th month
    assert id_particulars(None, date(2026, 3, 5)) is None
