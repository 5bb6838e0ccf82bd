"""A legal-aid case's documents on the console: the upload control (kind picker in Chinese, the
file, errors beside each field), the list of what was uploaded, and downloads — each a call to
the aid service with the user's token, so who may see or upload is decided there (and every
download is audited there)."""

from __future__ import annotations

import html
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile  # what request.form() holds (FastAPI's is a subclass)

from services.console import i18n
from services.console import session as sess
from services.console.service import BackendError, Unavailable
from services.console.web import backends, check_csrf, problem_ctx, render, require, token

router = APIRouter()

# Who may upload (services/aid/access.py: the window, officers, the assigned lawyer).
UPLOADERS = ("aid_officer", "counter_staff", "admin", "lawyer")
CLOSED = ("archived", "withdrawn")
ACCEPT = ".pdf,.jpg,.jpeg,.png,.heic,application/pdf,image/jpeg,image/png,image/heic"


def kind_options(checklist: list[dict], names: dict[str, str]) -> list[tuple[str, str, bool]]:
    """(code, Chinese name, still missing) for the picker: what the notice still asks for first,
    then the rest of the required list, then every other kind the service knows."""
    required = [i for i in checklist if i.get("required")]
    first = [i for i in required if not i.get("supplied")] + [i for i in required if i.get("supplied")]
    seen = {i["kind"] for i in first}
    out = [
        (i["kind"], i.get("name") or names.get(i["kind"], i["kind"]), not i.get("supplied")) for i in first
    ]
    return out + [(k, n, False) for k, n in names.items() if k not in seen]


def can_upload(case: dict, roles: list[str] | set[str]) -> bool:
    return bool(set(roles) & set(UPLOADERS)) and case.get("status") not in CLOSED


def limits_hint(rules: dict, lang: str) -> str:
    """What the aid service accepts (GET /v1/rules `uploads`), in the console's language."""
    up = rules.get("uploads") or {}
    sep = ", " if lang == "en" else "、"
    types = sep.join(up.get("types") or ["PDF", "JPEG", "PNG", "HEIC"])
    limit = int(up.get("max_bytes") or 10 * 1024 * 1024)
    size = f"{limit / 1048576:g} MB" if limit >= 1048576 else f"{limit // 1024} KB"
    return i18n.t("up.hint", lang).format(types=types, size=size)


def form_ctx(case: dict, names: dict[str, str], roles: Any, **more: Any) -> dict[str, Any]:
    return {
        "case_id": str(case.get("id", "")),
        "kinds": kind_options(case.get("checklist") or [], names),
        "can_upload": can_upload(case, roles),
        "accept": ACCEPT,
        "chosen": "",
        "errors": {},
        **more,
    }


def _errors_by_field(exc: BackendError, lang: str) -> dict[str, str]:
    """The service's field errors keyed by the form's own fields (kind, file); anything else
    is shown above the form."""
    out: dict[str, str] = {}
    for field, msg in exc.field_errors(lang):
        key = field if field in ("kind", "file") else "_form"
        out[key] = f"{out[key]}；{msg}" if key in out else msg
    if not out:
        out["_form"] = exc.message(lang)
    return out


@router.post("/cases/aid/{case_id}/uploads", response_class=HTMLResponse)
async def upload(request: Request, case_id: uuid.UUID) -> Response:
    s = require(request, "cases")
    form = await check_csrf(request)
    kind = str(form.get("kind") or "")
    file = form.get("file")
    b, tok = backends(request), await token(request)
    try:
        case = await b.case(tok, "aid", str(case_id))
        rules = await b.aid_rules(tok)
        names = rules.get("attachments") or {}
    except (Unavailable, BackendError) as exc:
        return render(request, "_case_result.html", problem_ctx(exc, s.lang))
    errors: dict[str, str] = {}
    if not kind:
        errors["kind"] = i18n.t("up.pick_kind", s.lang)
    if not isinstance(file, UploadFile) or not file.filename:
        errors["file"] = i18n.t("up.pick_file", s.lang)
    if not errors and isinstance(file, UploadFile):
        try:
            r = await b.call(
                "aid",
                "POST",
                f"/v1/cases/{case_id}/uploads",
                tok,
                data={"kind": kind},
                # The spooled file itself: httpx streams it on, the console never holds it whole.
                files={"file": (file.filename, file.file, file.content_type or "application/octet-stream")},
            )
        except Unavailable as exc:
            return render(request, "_case_result.html", problem_ctx(exc, s.lang))
        except BackendError as exc:
            errors = _errors_by_field(exc, s.lang)
        else:
            doc = r.json()
            said = "up.duplicate" if doc.get("duplicate") else "up.uploaded"
            s.flash = f"{i18n.t(said, s.lang)}{doc.get('kind_name') or kind}（{doc.get('filename', '')}）"
            resp = HTMLResponse(
                f'<div class="ok" role="status" data-testid="ok">{html.escape(s.flash)}</div>',
                headers={"HX-Refresh": "true"},  # the checklist and the list are drawn again
            )
            sess.save(request, resp, s)
            return resp
    ctx = form_ctx(case, names, s.roles, chosen=kind, errors=errors, hint=limits_hint(rules, s.lang))
    return render(request, "_upload_form.html", ctx)


@router.get("/cases/aid/{case_id}/uploads/{upload_id}")
async def download(request: Request, case_id: uuid.UUID, upload_id: uuid.UUID) -> Response:
    """The document from the aid service (which checks the case is the user's and audits it)."""
    s = require(request, "cases")
    try:
        r = await backends(request).call(
            "aid", "GET", f"/v1/cases/{case_id}/uploads/{upload_id}/content", await token(request)
        )
    except (Unavailable, BackendError) as exc:
        return render(request, "unavailable.html", problem_ctx(exc, s.lang), 200)
    return Response(
        r.content,
        media_type=r.headers.get("content-type", "application/octet-stream"),
        headers={
            "Content-Disposition": r.headers.get("content-disposition", "attachment"),
            "Cache-Control": "no-store",  # personal data (ID-card images) never sits in a cache
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )
