"""Pure rules of aid's document uploads (services/aid/uploads/rules.py): the type read from the
bytes and checked against the declared one, the limits, the file name, the 一次性告知 checklist."""

from __future__ import annotations

import struct
import zlib
from datetime import date

import pytest

from libs.common.problems import FieldProblem
from services.aid import domain
from services.aid.settings import get_rules
from services.aid.uploads import rules as r


def png(extra: bytes = b"") -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00" + extra))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64  # a phone photo
DOCX = b"PK\x03\x04" + b"\x00" * 26 + b"[Content_Types].xml" + b"\x00" * 40 + b"word/document.xml"


@pytest.mark.parametrize(
    ("declared", "data", "found"),
    [
        ("application/pdf", PDF, "application/pdf"),
        ("image/png", png(), "image/png"),
        ("image/jpg", JPEG, "image/jpeg"),  # an alias browsers send
        ("application/octet-stream", PDF, "application/pdf"),  # undeclared: the bytes decide
        (None, JPEG, "image/jpeg"),
        ("image/PNG; charset=binary", png(), "image/png"),
        ("image/heif", HEIC, "image/heic"),
    ],
)
def test_the_type_is_what_the_bytes_are(declared, data, found):
    assert r.content_type(declared, data) == found


@pytest.mark.parametrize(
    ("declared", "data", "code"),
    [
        ("application/pdf", png(), "type_mismatch"),  # a PNG renamed to .pdf
        ("image/jpeg", PDF, "type_mismatch"),
        ("text/plain", b"hello, this is not a document", "unsupported_type"),
        ("application/pdf", b"hello", "unsupported_type"),
        ("application/zip", b"PK\x03\x04" + b"\x00" * 40, "unsupported_type"),
        # Word is refused (macros; not what will be printed): the window asks for a PDF.
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", DOCX, "unsupported_type"),
    ],
)
def test_a_type_the_bytes_deny_is_refused_415_on_the_file_field(declared, data, code):
    with pytest.raises(FieldProblem) as e:
        r.content_type(declared, data)
    err = e.value.errors[0]
    assert e.value.status == 415 and err["field"] == "file" and err["code"] == code
    assert err["message"] and err["message_en"] and err["message"] != err["message_en"]


def test_limits_empty_and_too_large_and_unknown_kind():
    limits = r.UploadLimits(max_bytes=1000)
    r.check_size(1000, limits)
    with pytest.raises(FieldProblem) as big:
        r.check_size(1001, limits)
    assert big.value.status == 413 and big.value.errors[0]["field"] == "file"
    with pytest.raises(FieldProblem) as empty:
        r.check_size(0, limits)
    assert empty.value.status == 422 and empty.value.errors[0]["code"] == "empty"
    with pytest.raises(FieldProblem) as kind:
        r.check_kind("selfie")
    assert kind.value.errors[0]["field"] == "kind" and "申请人身份证明" in kind.value.errors[0]["message"]
    assert r.check_kind("identity") == "identity"


def test_limits_from_the_environment(monkeypatch):
    monkeypatch.setenv("AID_UPLOAD_MAX_BYTES", "2048")
    assert r.UploadLimits.from_env().max_bytes == 2048 and r.UploadLimits.from_env().body_bytes > 2048
    monkeypatch.delenv("AID_UPLOAD_MAX_BYTES")
    assert r.UploadLimits.from_env().max_bytes == 10 * 1024 * 1024


def test_file_names_lose_paths_and_control_characters():
    assert r.clean_filename("C:\\Users\\王\\身份证.jpg", "image/jpeg") == "身份证.jpg"
    assert r.clean_filename("../../etc/passwd\x00.pdf", "application/pdf") == "passwd.pdf"
    assert r.clean_filename("", "image/png") == "document.png"
    assert len(r.clean_filename("长" * 500, "image/png")) == 200


def _facts(**over) -> domain.Facts:  # type: ignore[no-untyped-def]
    base = dict(
        province="14",
        matter="labour_pay",
        applicant_birth=date(1980, 1, 1),
        exemption=None,
        means=domain.Means(household_size=3, monthly_income=3000, verification="honesty_commitment"),  # type: ignore[arg-type]
        attachments={"identity"},
    )
    base.update(over)
    return domain.Facts(**base)  # type: ignore[arg-type]


def test_checklist_ticks_off_what_is_on_file_and_keeps_the_notice_order():
    rules = get_rules()
    required = r.required_items(_facts(), rules)
    # Art 41: a signed commitment instead of verification is itself required.
    assert required == ["identity", "matter_materials", "hardship_statement", "honesty_commitment"]
    items = r.checklist(
        required, {"identity", "proxy_proof"}, {"identity": 2, "proxy_proof": 1}, {"matter_materials"}
    )
    assert [(i.kind, i.supplied, i.required) for i in items] == [
        ("identity", True, True),
        ("matter_materials", False, True),
        ("hardship_statement", False, True),
        ("honesty_commitment", False, True),
        ("proxy_proof", True, False),  # supplied though not asked for: listed after the notice
    ]
    assert items[0].uploads == 2 and items[1].deferred and items[0].name == "申请人身份证明"
    # Art 42 exemption: its own proofs; Art 32: no means test at all; a notified case: nothing.
    minor = r.required_items(_facts(exemption="migrant_worker", means=None), rules)
    assert minor == ["identity", "matter_materials", "migrant_work_proof"]
    assert r.required_items(_facts(matter="abuse_victim"), rules) == ["identity", "matter_materials"]
    assert r.required_items(_facts(), rules, notified=True) == []
