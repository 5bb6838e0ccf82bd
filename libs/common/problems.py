"""RFC 9457 problem+json errors with field-level messages in Chinese and English.

Every service installs these handlers so a client never sees a bare 500 or a stack
trace, and a person can tell which field to fix.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import asyncpg
from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from libs.common import framework_errors as fw
from libs.common.bilingual import Text
from libs.common.transient import is_transient

# Where the drivers' errors come from: OSError (refused, reset), TimeoutError, SQLAlchemy's
# wrappers, asyncpg's own, aiokafka's.
INFRASTRUCTURE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    sa_exc.SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    KafkaError,
)

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

_TITLES = {
    400: ("请求有误", "Bad request"),
    401: ("未登录或凭证无效", "Not authenticated"),
    403: ("无权执行此操作", "Forbidden"),
    404: ("未找到", "Not found"),
    405: ("不支持的请求方法", "Method not allowed"),
    409: ("与当前状态冲突", "Conflict"),
    413: ("请求体过大", "Payload too large"),
    415: ("不支持的内容类型", "Unsupported media type"),
    422: ("提交的内容有误，请按提示修改", "Some fields are invalid"),
    429: ("请求过于频繁，请稍后再试", "Too many requests"),
    500: ("系统内部错误，请稍后再试", "Internal error"),
    503: ("服务暂不可用", "Service unavailable"),
}

# pydantic error type -> (zh, en) templates; {ctx} keys come from the error's ctx.
_FIELD_MESSAGES = {
    "missing": ("必填项，请填写", "This field is required"),
    "string_too_short": ("内容太短，至少 {min_length} 个字符", "Too short: at least {min_length} characters"),
    "string_too_long": ("内容太长，最多 {max_length} 个字符", "Too long: at most {max_length} characters"),
    "string_type": ("应为文字", "Must be a string"),
    "enum": ("取值无效，可选：{expected}", "Invalid value; expected one of: {expected}"),
    "literal_error": ("取值无效，可选：{expected}", "Invalid value; expected one of: {expected}"),
    "int_parsing": ("应为整数", "Must be an integer"),
    "int_type": ("应为整数", "Must be an integer"),
    "float_parsing": ("应为数字", "Must be a number"),
    "bool_parsing": ("应为 true 或 false", "Must be true or false"),
    "uuid_parsing": ("编号格式不正确（应为 UUID）", "Must be a UUID"),
    "datetime_parsing": ("时间格式不正确（如 2026-11-24T09:30:00+08:00）", "Invalid datetime"),
    "datetime_from_date_parsing": ("时间格式不正确（如 2026-11-24T09:30:00+08:00）", "Invalid datetime"),
    "date_from_datetime_parsing": ("日期格式不正确（如 2026-11-24）", "Invalid date"),
    "greater_than_equal": ("应不小于 {ge}", "Must be ≥ {ge}"),
    "less_than_equal": ("应不大于 {le}", "Must be ≤ {le}"),
    "greater_than": ("应大于 {gt}", "Must be > {gt}"),
    "less_than": ("应小于 {lt}", "Must be < {lt}"),
    "json_invalid": ("不是合法的 JSON", "Not valid JSON"),
    "model_attributes_type": ("应为对象", "Must be an object"),
    "dict_type": ("应为对象", "Must be an object"),
    "list_type": ("应为列表", "Must be a list"),
    "extra_forbidden": ("不允许提交此字段", "This field is not allowed"),
    "too_long": ("项目太多，最多 {max_length} 项", "Too many items: at most {max_length}"),
}


class FieldProblem(Exception):
    """Raised by services for a domain-level field error (e.g. unknown region code)."""

    def __init__(
        self, field: str, message_zh: str, message_en: str, *, status: int = 422, code: str = "invalid"
    ):
        super().__init__(message_en)
        self.errors = [{"field": field, "code": code, "message": message_zh, "message_en": message_en}]
        self.status = status


class Problem(Exception):
    """A non-field problem: 404, 409 with allowed transitions, …"""

    def __init__(self, status: int, detail_zh: str, detail_en: str | None = None, **extra: Any):
        super().__init__(detail_en or detail_zh)
        self.status = status
        self.detail = detail_zh
        self.detail_en = detail_en or detail_zh
        self.extra = extra


def problem_response(
    status: int,
    *,
    detail: str | None = None,
    detail_en: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    title_zh, title_en = _TITLES.get(status, ("请求失败", "Request failed"))
    body: dict[str, Any] = {"type": "about:blank", "title": title_zh, "title_en": title_en, "status": status}
    if detail:
        body["detail"] = detail
    if detail_en:
        body["detail_en"] = detail_en
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "body"


def translate_validation_error(err: dict[str, Any]) -> dict[str, Any]:
    ctx = {k: v for k, v in (err.get("ctx") or {}).items()}
    kind = err.get("type", "")
    if kind == "value_error" and isinstance(ctx.get("error"), ValueError):
        # Our own validators raise ValueError("中文 | English") (libs.common.bilingual).
        zh, en = Text.parse(ctx["error"])
        return {"field": _field_path(err["loc"]), "code": "invalid", "message": zh, "message_en": en}
    zh, en = _FIELD_MESSAGES.get(kind, ("取值无效", err.get("msg", "Invalid value")))
    try:
        zh, en = zh.format(**ctx), en.format(**ctx)
    except (KeyError, IndexError):
        pass
    return {"field": _field_path(err["loc"]), "code": kind, "message": zh, "message_en": en}


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        unreadable = [e for e in exc.errors() if fw.is_unreadable_body(e)]
        if unreadable:  # not JSON at all: nothing of its shape can be judged (400, not 422)
            zh, en = fw.INVALID_JSON
            errors = [fw.json_invalid_error(unreadable[0])]
            return problem_response(400, detail=zh, detail_en=en, code="json_invalid", errors=errors)
        errors = [translate_validation_error(e) for e in exc.errors()]
        return problem_response(422, errors=errors)

    @app.exception_handler(FieldProblem)
    async def _field(_: Request, exc: FieldProblem) -> JSONResponse:
        return problem_response(exc.status, errors=exc.errors)

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        extra = dict(exc.extra)
        headers = {}
        if "headers_www" in extra:
            headers["WWW-Authenticate"] = extra.pop("headers_www")
        if "headers_retry" in extra:
            headers["Retry-After"] = extra.pop("headers_retry")
        return problem_response(
            exc.status, detail=exc.detail, detail_en=exc.detail_en, headers=headers or None, **extra
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # 404 of an unknown path, 405, FastAPI's 400 and our own 413/429, all in both languages
        said = fw.describe(request.scope, exc.status_code, exc.detail, getattr(exc, "headers", None))
        return problem_response(
            said.status,
            detail=said.detail,
            detail_en=said.detail_en,
            headers=said.headers or None,
            **said.extra,
        )

    async def _infrastructure(_: Request, exc: Exception) -> JSONResponse:
        return unhandled_response(exc)

    # Registered by class, these are answered inside the app: a handler for plain Exception is
    # run by Starlette's outermost middleware, which re-raises after answering, and every 503 of
    # a database restart came with a traceback in the log. (In a service app any other error is
    # answered by the correlation middleware, libs/common/app.py, with unhandled_response: the
    # handler below is for apps without it.)
    for kind in INFRASTRUCTURE_ERRORS:
        app.add_exception_handler(kind, _infrastructure)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return await _infrastructure(request, exc)


def unhandled_response(exc: BaseException) -> JSONResponse:
    """The answer to an error nothing else handled: logged once, here, while the request's
    correlation id is still set; a 503 (one warning line) when a dependency is away."""
    if isinstance(exc, Exception) and is_transient(exc):
        # The database or the broker is away (restarting, failing over, out of connections):
        # nothing is wrong with the request, and nothing of it was kept — the client retries
        # it (with the same Idempotency-Key) once we are back. One warning line, no traceback.
        log.warning("dependency unavailable: %s: %s", type(exc).__name__, exc)
        return dependency_unavailable()
    log.error("unhandled error", exc_info=exc)
    return problem_response(500)


# C0 control characters but tab, line feed and carriage return: PostgreSQL refuses U+0000 in
# text and JSONB (a 500 before this check), and none of the others belongs in what a person types.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
CONTROL_CHAR_MESSAGE = (
    "不能包含控制字符（如 U+0000）",
    "Must not contain control characters (such as U+0000)",
)


def control_char_error(field: str) -> dict[str, str]:
    zh, en = CONTROL_CHAR_MESSAGE
    return {"field": field, "code": "control_character", "message": zh, "message_en": en}


def control_char_fields(value: Any, path: str = "") -> list[str]:
    """Dotted paths (``parties.0.name``) of the strings in a decoded JSON value, keys included,
    that hold a control character; ``body`` for the top level."""
    found: list[str] = []
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if CONTROL_CHARS.search(item):
                found.append(where or "body")
        elif isinstance(item, dict):
            for k, v in item.items():
                key = str(k)
                sub = f"{where}.{CONTROL_CHARS.sub('?', key)}" if where else CONTROL_CHARS.sub("?", key)
                if CONTROL_CHARS.search(key):
                    found.append(sub)
                stack.append((v, sub))
        elif isinstance(item, list):
            stack.extend((v, f"{where}.{i}" if where else str(i)) for i, v in enumerate(item))
    return sorted(set(found))


RETRY_AFTER_SECONDS = 5


def dependency_unavailable() -> JSONResponse:
    return problem_response(
        503,
        detail="数据库或消息服务暂时不可用，您提交的内容未被保存，请稍后重试",
        detail_en="the database or the message broker is briefly unavailable; nothing was saved, please retry",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        code="dependency_unavailable",
    )
