"""What an uploaded document may be, and what the case still lacks — pure, no I/O.

Accepted: PDF, JPEG, PNG and HEIC (what a scanner or a phone camera produces). Word files are
not: they can carry macros and cannot be shown to the officer as they will be printed; the
window asks for a PDF instead. The type is read from the bytes (`filetype`), never trusted
from the browser; a file whose bytes disagree with the type it declares is refused."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

import filetype

from libs.common.problems import FieldProblem
from services.aid import domain
from services.aid.settings import AidRules

# MIME type → the name a person knows it by.
ACCEPTED = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG", "image/heic": "HEIC"}
# What browsers and phones also call the same formats.
ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "image/heif": "image/heic",
}
# A part sent without a real type (a browser that does not know the extension): the bytes decide.
UNDECLARED = {"", "application/octet-stream"}
SNIFF_BYTES = 8192  # filetype reads at most the first 8 KiB
KINDS = domain.ATTACHMENT_NAMES  # the closed list of kinds: the materials the rules can ask for


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 10 * 1024 * 1024
    chunk_bytes: int = 256 * 1024  # one encrypted row of the PostgreSQL store

    @classmethod
    def from_env(cls) -> UploadLimits:
        """AID_UPLOAD_MAX_BYTES (default 10 MiB), AID_UPLOAD_CHUNK_BYTES (default 256 KiB)."""
        return cls(
            max_bytes=int(os.environ.get("AID_UPLOAD_MAX_BYTES") or cls.max_bytes),
            chunk_bytes=int(os.environ.get("AID_UPLOAD_CHUNK_BYTES") or cls.chunk_bytes),
        )

    @property
    def body_bytes(self) -> int:
        """The request limit of the upload route: the file plus the multipart envelope."""
        return self.max_bytes + 64 * 1024


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise FieldProblem(
            "kind",
            f"材料类型无效，可选：{'、'.join(KINDS.values())}",
            f"unknown document kind; expected one of: {', '.join(KINDS)}",
        )
    return kind


def check_size(size: int, limits: UploadLimits) -> None:
    if size == 0:
        raise FieldProblem("file", "文件是空的，请重新选择", "the file is empty", code="empty")
    if size > limits.max_bytes:
        mb = limits.max_bytes / (1024 * 1024)
        raise FieldProblem(
            "file",
            f"文件超过 {mb:g} MB 上限，请压缩或分开上传",
            f"the file exceeds the {mb:g} MB limit",
            status=413,
            code="too_large",
        )


def sniff(head: bytes) -> str | None:
    """The MIME type the bytes themselves show (magic numbers), or None."""
    return filetype.guess_mime(head)


def _normalised(declared: str | None) -> str:
    base = (declared or "").split(";", 1)[0].strip().lower()
    return ALIASES.get(base, base)


def content_type(declared: str | None, head: bytes) -> str:
    """The type the document is stored and served as: what the bytes are, if it is accepted and
    agrees with what was declared."""
    found = sniff(head)
    accepted = "、".join(ACCEPTED.values())
    if found not in ACCEPTED:
        what = f"（识别为 {found}）" if found else ""
        raise FieldProblem(
            "file",
            f"只接受 {accepted} 文件{what}，Word 等文件请转为 PDF 后上传",
            f"only {', '.join(ACCEPTED.values())} files are accepted (the bytes are {found or 'of no known type'})",
            status=415,
            code="unsupported_type",
        )
    said = _normalised(declared)
    if said not in UNDECLARED and said != found:
        raise FieldProblem(
            "file",
            f"文件内容是 {ACCEPTED[found]}，与声明的类型 {said} 不符，请检查文件是否被改过扩展名",
            f"the bytes are {ACCEPTED[found]} ({found}) but the file declares {said}",
            status=415,
            code="type_mismatch",
        )
    return found


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def clean_filename(name: str | None, content_type: str) -> str:
    """The name as the person chose it (no path, no control characters), at most 200 characters."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = _UNSAFE.sub("", base).strip()[:200]
    return base or f"document.{ACCEPTED[content_type].lower()}"


# ---------------------------------------------------------------- the 一次性告知 checklist
@dataclass(frozen=True)
class ChecklistItem:
    kind: str
    name: str
    required: bool  # the rules ask for it for this case (Art 41–43)
    supplied: bool  # on file: uploaded, or recorded as handed in on paper
    uploads: int  # how many documents of this kind were uploaded
    deferred: bool = False  # 容缺受理 / Art 44: accepted without it, to be supplied during review


def required_items(facts: domain.Facts, rules: AidRules, *, notified: bool = False) -> list[str]:
    """What the file must contain: the Art 43 list computed as if nothing had been supplied.
    A notified case (Art 25, 28, 36) needs no application materials from the person."""
    if notified:
        return []
    return domain.missing_items(replace(facts, attachments=set()), rules)


def checklist(
    required: list[str], supplied: set[str], uploads: dict[str, int], deferred: set[str]
) -> list[ChecklistItem]:
    """Every required item (in the order of the notice), then whatever else was supplied."""
    extra = [k for k in KINDS if k not in required and (k in supplied or uploads.get(k))]
    return [
        ChecklistItem(
            kind=k,
            name=KINDS.get(k, k),
            required=k in required,
            supplied=k in supplied,
            uploads=uploads.get(k, 0),
            deferred=k in deferred and k not in supplied,
        )
        for k in [*required, *extra]
    ]
