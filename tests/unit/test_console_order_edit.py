"""Correcting an order after filing (services/console/order_edit.py): who may, and bodies that
carry only what changed."""

from __future__ import annotations

from services.console import order_edit

ORDER = {
    "status": "offered",
    "requester_name": "韩秀兰",
    "region_code": "140430002",
    "description": "承包地被占",
    "service_type": "mediation",
    "domain": "land",
    "urgency": "normal",
    "special_groups": ["elderly"],
}


def test_only_the_front_desk_edits_and_only_open_orders():
    assert order_edit.can_edit(ORDER, ["operator"]) and order_edit.can_edit(ORDER, ["supervisor"])
    assert not order_edit.can_edit(ORDER, ["lawyer"])
    assert not order_edit.can_edit({**ORDER, "status": "closed"}, ["operator"])
    assert not order_edit.can_edit(None, ["operator"])


def test_facts_patch_sends_what_changed_and_blank_masked_fields_stay():
    form = {
        "name": "韩秀兰",
        "phone": "",
        "id_number": "",
        "county": "",
        "description": "承包地被占",
        "reason": "x",
    }
    assert order_edit.facts_patch(ORDER, form) == {}
    form |= {"phone": " 13700001235 ", "township": "140430003", "reason": "来电人更正电话"}
    assert order_edit.facts_patch(ORDER, form) == {
        "requester_phone": "13700001235",
        "region_code": "140430003",
        "reason": "来电人更正电话",
    }


def test_classification_change_compares_groups_only_when_the_form_showed_them():
    same = {"service_type": "mediation", "domain": "land", "urgency": "normal", "special_groups": ["elderly"]}
    assert order_edit.classification_change(ORDER, {**same, "groups_shown": "1"}) == {}
    changed = {
        **same,
        "urgency": "urgent",
        "special_groups": ["elderly", "women"],
        "groups_shown": "1",
        "reason": "家暴",
    }
    assert order_edit.classification_change(ORDER, changed) == {
        "urgency": "urgent",
        "special_groups": ["elderly", "women"],
        "reason": "家暴",
    }
    assert order_edit.classification_change(ORDER, {**same, "special_groups": []}) == {}


def test_routing_reasons_and_rules_in_the_readers_language():
    from services.console import i18n

    reason = "沁县公共法律服务中心 · 李明：岗位、技能与熟练度均符合，当前在岗 | 李明 at 沁县公共法律服务中心: role, skill and proficiency all match, on duty now"
    assert i18n.pick(reason, "zh").endswith("当前在岗") and " | " not in i18n.pick(reason, "zh")
    assert i18n.pick(reason, "en").startswith("李明 at") and i18n.pick("只有中文", "en") == "只有中文"
    assert (
        i18n.rule_label("legal-aid#1:county/法律援助", "zh")
        == "法律援助 · 第 1 目标：县（区）公共法律服务中心 · 法律援助窗口"
    )
    relaxed = i18n.rule_label("mediation-local#2:township/人民调解~parent_tier", "en")
    assert relaxed == "Local mediation · target 2: township station · mediation window (relaxed: one tier up)"
    assert i18n.rule_label("follow-up/previous-handler", "zh") == "追问交回原承办人"
    assert i18n.rule_label("unknown-rule", "zh") == "unknown-rule"
