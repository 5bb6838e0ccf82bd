"""The citizen pages (网络平台): file a request, track it, rate it — no login, made for phones.

Everything goes through intake's public endpoints (POST /v1/public/requests, GET /v1/track/…,
POST /v1/track/…/rating), which do their own validation and rate limiting; the console forwards
the citizen's address (service.Backends) so intake's limits count each citizen on their own.

CSRF: the same synchronizer token as the login form — every visitor gets the encrypted session
cookie (httponly, SameSite=Lax) with a random token, and each POST must echo it (check_csrf).
SameSite=Lax alone would already stop a cross-site form POST in current browsers; the token
also covers older ones, at no cost. Plain HTML forms and full pages: a citizen's old phone
with scripts off can still file (htmx only makes the region picker cascade).
"""

from __future__ import annotations

import math
import re
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console import domain, i18n
from services.console import session as sess
from services.console.service import BackendError, Unavailable
from services.console.web import CsrfFailed, backends, check_csrf, render

router = APIRouter()

# Plain-word questions (i18n cz.group_*) → intake's special groups, in the order asked.
GROUPS = (
    "elderly",
    "minor",
    "disabled",
    "women",
    "migrant_worker",
    "low_income",
    "veteran",
    "military_family",
)
# Each urgency question and the level a "yes" means (the highest ticked wins). Nothing ticked
# sends no urgency, so intake's own reading of the text (拿刀, 明天开庭 …) still decides.
URGENCY_QUESTIONS = (("danger", "critical"), ("violence", "urgent"), ("deadline", "urgent"))
# Intake's field paths → the form's fields (errors are shown beside them).
FIELD_OF = {
    "requester.name": "name",
    "requester.phone": "phone",
    "region_code": "region",
    "description": "description",
    "special_groups": "groups",
    "urgency": "urgency",
}
LABEL_OF = {
    "name": "cz.name",
    "phone": "cz.phone",
    "region": "cz.county",
    "description": "cz.description",
    "groups": "cz.step_about",
    "urgency": "cz.step_urgent",
    "number": "cz.number",
    "phone_suffix": "cz.suffix",
    "score": "cz.score",
    "comment": "cz.comment",
}
NUMBER = re.compile(r"^[A-Za-z0-9]{4,32}$")


def citizen_payload(form: dict[str, Any]) -> dict[str, Any]:
    """The body of intake's POST /v1/public/requests from the form (pure)."""
    body: dict[str, Any] = {
        "requester": {"name": (form.get("name") or "").strip(), "phone": (form.get("phone") or "").strip()},
        "region_code": form.get("village") or form.get("township") or form.get("county") or "",
        "description": (form.get("description") or "").strip(),
    }
    groups = [g for g in GROUPS if g in (form.get("special_groups") or [])]
    if groups:
        body["special_groups"] = groups
    levels = [level for name, level in URGENCY_QUESTIONS if form.get(name)]
    if levels:
        body["urgency"] = "critical" if "critical" in levels else "urgent"
    return body


def field_errors(exc: BackendError, lang: str) -> tuple[dict[str, str], list[str]]:
    """Intake's errors[] per form field, and the rest (not tied to a field) as plain lines."""
    by_field: dict[str, str] = {}
    other: list[str] = []
    for path, message in exc.field_errors(lang):
        name = FIELD_OF.get(path) or FIELD_OF.get(path.split(".")[0]) or (path if path in LABEL_OF else None)
        if name:
            by_field.setdefault(name, message)
        else:
            other.append(message)
    if not by_field and not other:
        other.append(exc.message(lang))
    return by_field, other


def wait_text(retry_after: Any, lang: str) -> str:
    """'12 分钟' / '40 秒' from a Retry-After in seconds."""
    try:
        seconds = max(1, int(float(retry_after)))
    except (TypeError, ValueError):
        seconds = 60
    if seconds >= 60:
        return i18n.t("cz.minutes", lang) % {"n": math.ceil(seconds / 60)}
    return i18n.t("cz.seconds", lang) % {"n": seconds}


def _problem(exc: BackendError | Unavailable, lang: str) -> str:
    """A page-level message for a failed call: too many attempts, service down, or intake's words."""
    if isinstance(exc, Unavailable):
        return i18n.t("cz.down", lang)
    if exc.status == 429:
        return i18n.t("cz.too_many", lang) % {"wait": wait_text(exc.body.get("retry_after"), lang)}
    if exc.status >= 500:
        return i18n.t("cz.down", lang)
    return exc.message(lang)


def client_ip(request: Request) -> str:
    # The console's own uvicorn resolves its ingress's X-Forwarded-For into request.client.
    return request.client.host if request.client else ""


def _form_page(
    request: Request, form: dict[str, Any] | None = None, status: int = 200, **ctx: Any
) -> Response:
    form = form or {}
    county, township = form.get("county") or "", form.get("township") or ""
    return render(
        request,
        "citizen_form.html",
        {
            "form": form,
            "groups": GROUPS,
            "urgency_questions": [name for name, _ in URGENCY_QUESTIONS],
            "counties": domain.region_options(None),
            "townships": domain.region_options(county) if county else [],
            "villages": domain.region_options(township) if township else [],
            # One key per form shown: a double tap or a resend of this form makes one order.
            "request_key": form.get("request_key") or uuid.uuid4().hex,
            "errors": {},
            "other_errors": [],
            "labels": LABEL_OF,
            **ctx,
        },
        status,
    )


@router.get("/citizen", response_class=HTMLResponse)
async def citizen_home(request: Request) -> Response:
    return _form_page(request)


async def _checked_form(request: Request) -> tuple[dict[str, Any], bool]:
    """The form, and whether its CSRF token is good. A citizen whose page outlived its cookie
    (left open overnight) gets the form back filled in with a fresh token, not a dead end."""
    try:
        return await check_csrf(request), True
    except CsrfFailed:
        form = await request.form()  # parsed once already: Starlette keeps it
        out = {k: form.getlist(k) if k == "special_groups" else form.get(k) for k in form.keys()}
        out.pop(sess.CSRF_FIELD, None)
        return out, False


@router.post("/citizen/requests", response_class=HTMLResponse)
async def file_request(request: Request) -> Response:
    form, fresh = await _checked_form(request)
    lang = sess.load(request).lang
    if not fresh:
        return _form_page(request, form, 403, notice=i18n.t("common.csrf", lang))
    if not form.get("county"):  # a county is the least intake needs; say so in plain words
        return _form_page(request, form, 422, errors={"region": i18n.t("cz.region_missing", lang)})
    payload = citizen_payload(form)
    key = f"citizen-{form.get('request_key') or uuid.uuid4().hex}"
    try:
        created = await backends(request).public_request(payload, key, client_ip(request))
    except BackendError as exc:
        if exc.status == 422:
            errors, other = field_errors(exc, lang)
            return _form_page(request, form, 422, errors=errors, other_errors=other)
        if exc.status == 409:  # this form's key already made an order, with other content
            return _form_page(request, {**form, "request_key": ""}, 409, notice=i18n.t("cz.resubmit", lang))
        return _form_page(request, form, exc.status, notice=_problem(exc, lang))
    except Unavailable as exc:
        return _form_page(request, form, 503, notice=_problem(exc, lang))
    return render(request, "citizen_done.html", {"created": created}, 201)


def _split(number: str, suffix: str) -> tuple[str, str]:
    """A pasted tracking code 'LW…-7890' in the number field is the number and the suffix."""
    number, suffix = number.strip().upper(), suffix.strip()
    if not suffix and "-" in number:
        number, _, suffix = number.rpartition("-")
    return number.replace(" ", ""), suffix


def _track_checks(number: str, suffix: str, lang: str) -> dict[str, str]:
    errors = {}
    if not NUMBER.match(number):
        errors["number"] = i18n.t("cz.number_invalid", lang)
    if not re.fullmatch(r"\d{4}", suffix):
        errors["phone_suffix"] = i18n.t("cz.suffix_invalid", lang)
    return errors


async def _track_page(request: Request, number: str, suffix: str, status: int = 200, **ctx: Any) -> Response:
    lang = sess.load(request).lang
    base = {"number": number, "phone_suffix": suffix, "errors": {}, "labels": LABEL_OF}
    if not number and not suffix:
        return render(request, "citizen_track.html", {**base, **ctx}, status)
    errors = _track_checks(number, suffix, lang)
    if errors:
        return render(request, "citizen_track.html", {**base, "errors": errors, **ctx}, 422)
    try:
        tracked = await backends(request).track(number, suffix, client_ip(request))
    except (BackendError, Unavailable) as exc:
        if isinstance(exc, BackendError) and exc.status == 404:  # one wording for number and suffix
            notice = i18n.t("cz.not_found", lang)
        elif isinstance(exc, BackendError) and exc.status == 422:
            by_field, other = field_errors(exc, lang)
            return render(request, "citizen_track.html", {**base, "errors": by_field, "other": other}, 422)
        else:
            notice = _problem(exc, lang)
        code = exc.status if isinstance(exc, BackendError) else 503
        return render(request, "citizen_track.html", {**base, "notice": notice, **ctx}, code)
    rated = next((e for e in reversed(tracked.get("timeline") or []) if e.get("kind") == "evaluated"), None)
    # Intake's entry reads "已收到您的评价（5 分），谢谢": the score, said in the page's own words.
    score = re.search(r"([1-5]) 分", rated.get("text", "")) if rated else None
    ctx |= {"tracked": tracked, "rated": rated, "rated_score": score.group(1) if score else None}
    return render(request, "citizen_track.html", {**base, **ctx}, status)


@router.get("/citizen/track", response_class=HTMLResponse)
async def track(request: Request, number: str = "", phone_suffix: str = "") -> Response:
    number, suffix = _split(number, phone_suffix)
    return await _track_page(request, number, suffix)


@router.post("/citizen/track/rating", response_class=HTMLResponse)
async def rate(request: Request) -> Response:
    form = await check_csrf(request)
    lang = sess.load(request).lang
    number, suffix = _split(form.get("number") or "", form.get("phone_suffix") or "")
    try:
        score = int(form.get("score") or 0)
    except ValueError:
        score = 0
    if not 1 <= score <= 5:
        errors = {"score": i18n.t("cz.score_missing", lang)}
        return await _track_page(
            request, number, suffix, 422, rate_errors=errors, comment=form.get("comment")
        )
    if _track_checks(number, suffix, lang):
        return await _track_page(request, number, suffix)
    try:
        await backends(request).rate_tracked(
            number,
            suffix,
            score=score,
            comment=(form.get("comment") or "").strip(),
            client_ip=client_ip(request),
        )
    except (BackendError, Unavailable) as exc:
        if isinstance(exc, BackendError) and exc.status == 422:
            by_field, other = field_errors(exc, lang)
            return await _track_page(request, number, suffix, 422, rate_errors=by_field, rate_other=other)
        return await _track_page(request, number, suffix, rate_notice=_problem(exc, lang))
    return await _track_page(request, number, suffix, thanks=True)
