"""Conflict of interest by identity (conflicts.py): ID number or phone blocks, a name only warns."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from libs.common.calendar import WorkCalendar
from libs.common.clock import CHINA_TZ
from libs.common.pii import phone_key
from services.dispatch.conflicts import NAMESAKE_WARNING, PartyKeys, PriorAct, assess, compare
from services.dispatch.domain import OrderView, Slot, StaffView, decide
from services.dispatch.policy import default_policy

WANG = "name:王伟"  # stand-ins for blind indexes: the rule only compares them
ID_A, ID_B, TEL_1, TEL_2 = "id:A", "id:B", "tel:1", "tel:2"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=CHINA_TZ)
POLICY, CAL = default_policy(), WorkCalendar()  # decide() is handed both, as dispatch does


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (PartyKeys(WANG, ID_A), PartyKeys(WANG, ID_A), "same"),
        (PartyKeys(WANG, ID_A), PartyKeys(WANG, ID_B), "namesake"),  # two different 王伟
        (PartyKeys(None, ID_A), PartyKeys("name:钱某", ID_A), "same"),  # named differently, same ID
        (PartyKeys(WANG, None, TEL_1), PartyKeys(WANG, None, TEL_1), "same"),
        (PartyKeys(WANG, None, TEL_1), PartyKeys(WANG, None, TEL_2), "namesake"),
        (PartyKeys(WANG), PartyKeys(WANG, ID_A, TEL_1), "namesake"),  # nothing to confirm it by
        (PartyKeys(WANG, ID_A, TEL_1), PartyKeys("name:李娜", ID_B, TEL_1), None),  # a shared phone, two IDs
        (PartyKeys(WANG, ID_A, TEL_1), PartyKeys(WANG, ID_B, TEL_1), "namesake"),  # the ID decides
        (PartyKeys("name:李娜", None, TEL_1), PartyKeys(WANG, None, TEL_2), None),
    ],
)
def test_compare_by_identity(a, b, expected):
    assert compare(a, b) == expected and compare(b, a) == expected


def test_assess_blocks_by_identity_and_only_warns_by_name():
    c = assess(
        [
            PriorAct("s1", PartyKeys(WANG, ID_A), PartyKeys(WANG, ID_A)),
            PriorAct("s2", PartyKeys(WANG, ID_A), PartyKeys(WANG, ID_B)),
            PriorAct("s3", PartyKeys(WANG, None, TEL_1), PartyKeys(None, None, TEL_1)),
            # s1 also has a name-only match elsewhere: blocked wins, no double listing.
            PriorAct("s1", PartyKeys(WANG), PartyKeys(WANG)),
        ]
    )
    assert c.blocked == {"s1", "s3"} and c.warned == {"s2"}
    assert "身份证号一致" in c.reasons["s1"] and "电话一致" in c.reasons["s3"]
    assert all("利益冲突" in r for r in c.reasons.values())
    assert assess([]).blocked == frozenset() == assess([]).warned


def test_phone_key_is_the_same_for_every_spelling_of_one_number():
    assert (
        phone_key("138 3456 7890")
        == phone_key("+86 13834567890")
        == phone_key("13834567890")
        == "13834567890"
    )
    assert phone_key("0355-2021234") == phone_key("0355 2021234") == "03552021234"
    assert phone_key("") is None and phone_key(None) is None


def _lawyer(sid: str, load: int = 0) -> StaffView:
    return StaffView(
        id=sid, name=sid, role="lawyer", skills=frozenset({"lawyer_referral"}), service_point_id="sp",
        service_point_name="沁县公共法律服务中心", tier="county", county_code="140430", capacity=10, load=load,
        slots=[Slot(d, time(8, 30), time(17, 30)) for d in range(5)], region_code="140430",
    )  # fmt: skip


def test_a_namesake_is_offered_with_a_warning_in_the_decision_not_passed_over():
    c = assess([PriorAct("w", PartyKeys(WANG, ID_A), PartyKeys(WANG, ID_B))])
    o = OrderView(
        id="o", service_type="lawyer_referral", county_code="140430",
        conflicted_staff=c.blocked, conflict_reasons=c.reasons, namesake_staff=c.warned,
    )  # fmt: skip
    d = decide(o, [_lawyer("w"), _lawyer("other", load=5)], NOW, policy=POLICY, calendar=CAL)
    # Each language's sentence carries its own half of the warning ("中文 | English").
    zh, en = d.reason.split(" | ")
    warn_zh, warn_en = NAMESAKE_WARNING.split(" | ")
    assert d.chosen.id == "w" and warn_zh in zh and warn_en in en
    row = next(x for x in d.candidates if x.staff_id == "w")
    assert row.passed_over is None and row.warning == NAMESAKE_WARNING


def test_the_same_person_on_the_other_side_blocks_with_the_reason():
    c = assess([PriorAct("w", PartyKeys(WANG, ID_A), PartyKeys(WANG, ID_A))])
    o = OrderView(
        id="o", service_type="lawyer_referral", county_code="140430",
        conflicted_staff=c.blocked, conflict_reasons=c.reasons, namesake_staff=c.warned,
    )  # fmt: skip
    d = decide(o, [_lawyer("w"), _lawyer("other", load=5)], NOW, policy=POLICY, calendar=CAL)
    assert d.chosen.id == "other" and NAMESAKE_WARNING not in d.reason
    assert "利益冲突" in next(x.passed_over for x in d.candidates if x.staff_id == "w")
