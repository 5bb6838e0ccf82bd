"""The errors Starlette and FastAPI raise themselves, said in both languages (#17).

Their HTTPExceptions carry one English phrase ("Not Found", "Method Not Allowed", "There was an
error parsing the body"); a client of ours is promised a Chinese `detail` and a `detail_en`.
Pure translation: problems.py turns the answer into problem+json (and this module imports
nothing of it, so the two do not import each other).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from libs.common.routematch import allowed_methods, route_path, takes_json_body

# FastAPI's words for a body it could not read other than as bad JSON (a broken form, a stream cut).
FASTAPI_BODY_ERROR = "There was an error parsing the body"

# When a framework exception says no more than the status phrase.
_DETAILS = {
    400: ("请求有误，无法处理", "the request could not be understood"),
    401: ("请先登录或提供有效凭证", "sign in or send valid credentials"),
    403: ("无权访问此地址", "not allowed here"),
    404: ("未找到", "not found"),
    406: ("无法以请求的格式回答", "cannot answer in the format asked for"),
    413: ("请求内容过大", "the request body is too large"),
    415: ("请以 application/json 提交", "send application/json"),
    429: ("请求过于频繁，请稍后再试", "too many requests, retry later"),
    500: ("系统内部错误，请稍后再试", "internal error"),
    503: ("服务暂不可用", "service unavailable"),
}

# Our own HTTPExceptions (BodyTooLarge, ratelimit.TooManyRequests) have one `detail` and write
# both languages into it as "中文（English）": split again here.
_ZH_EN = re.compile(r"^(?P<zh>.*[^\x00-\x7f].*?)（(?P<en>[\x00-\x7f]+)）$", re.S)
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


@dataclass
class Answer:
    status: int
    detail: str
    detail_en: str
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def bilingual(status: int, detail: Any) -> tuple[str, str]:
    default = _DETAILS.get(status, ("请求失败", _phrase(status).lower() or "request failed"))
    if not isinstance(detail, str) or not detail.strip() or detail == _phrase(status):
        return default
    if m := _ZH_EN.match(detail):
        return m["zh"], m["en"]
    if _CJK.search(detail):
        return detail, default[1]
    return default[0], detail  # English only: say what the status means in Chinese, keep the words


def describe(scope: Mapping[str, Any], status: int, detail: Any, headers: dict[str, str] | None) -> Answer:
    """The bilingual answer to an HTTPException with this status and detail."""
    out = dict(headers or {})
    path = route_path(scope)
    # No endpoint in the scope: the router matched no route at all (a route's own 404, for an
    # object that does not exist, keeps its words).
    if status == 404 and "endpoint" not in scope:
        return Answer(404, f"没有这个地址：{path}", f"no such path: {path}", out, {"code": "no_such_path"})
    if status == 405:
        # Starlette's Allow names only the first route matching the path; a client needs all.
        allowed = allowed_methods(scope.get("app"), path)
        methods = ", ".join(allowed) or out.get("Allow", "")
        out["Allow"] = methods
        method = scope.get("method", "")
        return Answer(
            405,
            f"此地址不支持 {method}，可用：{methods}",
            f"{method} is not supported here; allowed: {methods}",
            out,
            {"code": "method_not_allowed"},
        )
    if status == 400 and isinstance(detail, str) and not _CJK.search(detail):
        return _unreadable(scope, detail, out)
    zh, en = bilingual(status, detail)
    return Answer(status, zh, en, out)


def _unreadable(scope: Mapping[str, Any], detail: str, headers: dict[str, str]) -> Answer:
    """A framework 400 is a body it could not read: FastAPI's "error parsing the body" (JSON that
    is not UTF-8, a broken form), Starlette's multipart errors ("Missing boundary …"). The same
    rule as bad JSON: 400, on the field `body`."""
    if takes_json_body(scope.get("app"), scope):
        zh, en = INVALID_JSON
        code, message, message_en = (
            "json_invalid",
            "不是合法的 JSON（无法按 UTF-8 解码）",
            "not valid JSON: not UTF-8",
        )
    else:
        zh, en = UNREADABLE_BODY
        code, message, message_en = "body_unreadable", zh, en
        if detail != FASTAPI_BODY_ERROR:
            message_en = f"{en}: {detail}"
    error = {"field": "body", "code": code, "message": message, "message_en": message_en}
    return Answer(400, zh, en, headers, {"code": code, "errors": [error]})


UNREADABLE_BODY = ("无法读取请求体，请检查格式", "the request body could not be read; check its format")
INVALID_JSON = ("请求体不是合法的 JSON", "the request body is not valid JSON")


def is_unreadable_body(err: dict[str, Any]) -> bool:
    """FastAPI's own json_invalid: the whole body failed to decode, its loc is ("body", offset).
    (A pydantic `Json` field holding bad JSON is a field error of a readable body: 422.)"""
    loc = tuple(err.get("loc") or ())
    return (
        err.get("type") == "json_invalid" and len(loc) == 2 and loc[0] == "body" and isinstance(loc[1], int)
    )


def json_invalid_error(err: dict[str, Any]) -> dict[str, str]:
    # The offset goes into the words, not into `field`: "body.12" named no field a person has.
    pos = err["loc"][1] + 1  # a person counts from 1; the decoder's offset is from 0
    why = str((err.get("ctx") or {}).get("error") or "").strip()
    return {
        "field": "body",
        "code": "json_invalid",
        "message": f"不是合法的 JSON（第 {pos} 个字符处有误）",
        "message_en": f"not valid JSON: {why or 'decode error'} at character {pos}",
    }
