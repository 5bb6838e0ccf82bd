"""The console's upload control (services/console/api_uploads.py): the kind picker's order and
labels, who is offered the control, and the service's errors placed beside the form's fields."""

from __future__ import annotations

from services.console.api_uploads import _errors_by_field, can_upload, kind_options, limits_hint
from services.console.service import BackendError

NAMES = {
    "identity": "申请人身份证明",
    "matter_materials": "与所申请法律援助事项有关的材料",
    "proxy_proof": "代理人身份及代理关系证明",
}


def test_the_picker_lists_what_is_still_missing_first_then_every_other_kind():
    checklist = [
        {"kind": "identity", "name": "申请人身份证明", "required": True, "supplied": True},
        {
            "kind": "matter_materials",
            "name": "与所申请法律援助事项有关的材料",
            "required": True,
            "supplied": False,
        },
    ]
    assert kind_options(checklist, NAMES) == [
        ("matter_materials", "与所申请法律援助事项有关的材料", True),
        ("identity", "申请人身份证明", False),
        ("proxy_proof", "代理人身份及代理关系证明", False),
    ]
    assert [k for k, _, _ in kind_options([], NAMES)] == list(NAMES)


def test_only_the_window_officers_and_lawyers_upload_and_never_to_a_closed_case():
    assert can_upload({"status": "incomplete"}, ["counter_staff"])
    assert can_upload({"status": "in_progress"}, {"lawyer"})
    assert not can_upload({"status": "incomplete"}, ["supervisor"])
    assert not can_upload({"status": "archived"}, ["aid_officer"])


def test_the_hint_states_the_services_own_limits():
    rules = {"uploads": {"types": ["PDF", "PNG"], "max_bytes": 10 * 1024 * 1024}}
    assert limits_hint(rules, "zh") == "可上传 PDF、PNG 文件（手机照片可直接上传），单个文件不超过 10 MB"
    assert (
        limits_hint({"uploads": {"types": ["PDF"], "max_bytes": 204800}}, "en")
        == "PDF files, at most 200 KB each"
    )
    assert "HEIC" in limits_hint({}, "zh")  # the service's rules unavailable: its defaults


def test_the_services_errors_go_beside_kind_and_file():
    exc = BackendError(
        415,
        {
            "errors": [
                {
                    "field": "file",
                    "message": "文件内容是 PNG，与声明的类型不符",
                    "message_en": "the bytes are PNG",
                },
                {"field": "kind", "message": "材料类型无效", "message_en": "unknown kind"},
            ]
        },
    )
    assert _errors_by_field(exc, "zh") == {"file": "文件内容是 PNG，与声明的类型不符", "kind": "材料类型无效"}
    assert _errors_by_field(exc, "en")["file"] == "the bytes are PNG"
    conflict = BackendError(409, {"detail": "案件已撤回，不能再上传材料", "detail_en": "closed"})
    assert _errors_by_field(conflict, "zh") == {"_form": "案件已撤回，不能再上传材料"}
