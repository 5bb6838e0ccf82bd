"""Labels of a legal-aid case's documents (services/console/api_uploads.py)."""

from __future__ import annotations

UPLOADS: dict[str, tuple[str, str]] = {
    "up.checklist": ("材料清单（一次性告知）", "Materials checklist (one-time notice)"),
    "up.item": ("材料", "Item"),
    "up.state": ("状态", "State"),
    "up.supplied": ("已提交", "Supplied"),
    "up.missing": ("尚缺", "Still missing"),
    "up.deferred": ("容缺受理，审查中补交", "Accepted without it, to follow"),
    "up.extra": ("非必需", "Not required"),
    "up.files": ("已上传文件", "Uploaded files"),
    "up.no_files": ("尚未上传文件", "No files uploaded yet"),
    "up.upload": ("上传材料", "Upload a document"),
    "up.kind": ("材料类型", "Kind of document"),
    "up.pick": ("请选择", "Choose"),
    "up.file": ("文件", "File"),
    "up.hint": (
        "可上传 {types} 文件（手机照片可直接上传），单个文件不超过 {size}",
        "{types} files, at most {size} each",
    ),
    "up.submit": ("上传", "Upload"),
    "up.pick_kind": ("请选择材料类型", "Choose the kind of document"),
    "up.pick_file": ("请选择要上传的文件", "Choose a file to upload"),
    "up.uploaded": ("已上传：", "Uploaded: "),
    "up.duplicate": ("该文件已上传过，未重复保存：", "Already on the case, not stored twice: "),
    "up.download": ("下载", "Download"),
    "up.size": ("大小", "Size"),
    "up.uploaded_at": ("上传时间", "Uploaded"),
    "up.still_missing": ("仍缺", "still missing"),
    "up.closed": ("案件已办结或撤回，不能再上传材料", "The case is closed: no more uploads"),
}
