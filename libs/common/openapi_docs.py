"""Every service's /openapi.json as the service really answers (#17).

FastAPI documents a 422 as its own `{"detail": [...]}` `application/json` and knows nothing of
our policy. What a client meets instead: every error is RFC 9457 problem+json with `errors[]`
and both languages (libs/common/problems.py); every route is deny-by-default per its service's
access.py (libs/common/auth.py), by bearer JWT or, where a rule names API-key scopes, by
`X-API-Key`. The document is rewritten from those two sources, once, when first asked for, so it
cannot drift from them: the statuses listed are the ones the request pipeline can produce for
that route's shape (a body, path parameters, a rule that is not public).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from libs.common.auth import Rule
from libs.common.problems import _TITLES, PROBLEM_JSON

FIELD_ERROR = {
    "type": "object",
    "required": ["field", "code", "message", "message_en"],
    "properties": {
        "field": {
            "type": "string",
            "description": "出错的字段（点分路径，如 requester.phone）| dotted field path",
        },
        "code": {"type": "string", "description": "机器可读的错误类型 | machine-readable error kind"},
        "message": {"type": "string", "description": "中文说明 | message in Chinese"},
        "message_en": {"type": "string", "description": "英文说明 | message in English"},
    },
}

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details, in Chinese and English | 错误说明（中英文）",
    "required": ["type", "title", "title_en", "status"],
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {"type": "string", "description": "中文标题"},
        "title_en": {"type": "string", "description": "English title"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "中文说明"},
        "detail_en": {"type": "string", "description": "English detail"},
        "code": {"type": "string", "description": "机器可读的原因 | machine-readable reason"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
        # A case step refused (aid, mediation: libs/common/workflow.py), code transition_not_allowed.
        "state": {"type": "string", "description": "案件当前状态 | the case's state (409 of a case step)"},
        "action": {"type": "string", "description": "被拒绝的操作 | the step refused"},
        "allowed_actions": {
            "type": "array",
            "items": {"type": "string"},
            "description": "当前可进行的操作 | the steps allowed now",
        },
    },
    "additionalProperties": True,
}

SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "identity 签发的访问令牌（15 分钟）| access token from identity's /v1/auth/login",
    },
    "apiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "外部系统的 API 密钥（按 scope 授权）| an external system's API key, granted by scope",
    },
}

_BODY_METHODS = {"post", "put", "patch"}


# Open311 GeoReport v2 answers errors as its spec says: an array of {code, description}, in the
# format the path's suffix asks for (services/intake/open311.py).
OPEN311_ERRORS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}


def _open311_response(status: int, path: str) -> dict[str, Any]:
    zh, en = _TITLES.get(status, ("请求失败", "Request failed"))
    said = "unknown jurisdiction_id" if status == 404 else en
    if path.endswith(".xml"):
        example = f"<errors><error><code>{status}</code><description>{said}</description></error></errors>"
        content: dict[str, Any] = {"application/xml": {"schema": {"type": "string"}, "example": example}}
    else:
        content = {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Open311Errors"},
                "example": [{"code": status, "description": said}],
            }
        }
    # Field errors found before the route runs (validation, control characters) stay problem+json.
    content[PROBLEM_JSON] = {
        "schema": {"$ref": "#/components/schemas/Problem"},
        "example": problem_example(status),
    }
    return {"description": f"{zh} | {en} (Open311 error array)", "content": content}


# One example per status, as the pipeline really says it (libs/common/framework_errors.py for
# the framework's own, problems.py for the rest): a client can be written from the document.
_EXAMPLES: dict[int, dict[str, Any]] = {
    400: {
        "detail": "请求体不是合法的 JSON",
        "detail_en": "the request body is not valid JSON",
        "code": "json_invalid",
        "errors": [
            {
                "field": "body",
                "code": "json_invalid",
                "message": "不是合法的 JSON（第 13 个字符处有误）",
                "message_en": "not valid JSON: Expecting value at character 13",
            }
        ],
    },
    401: {"detail": "缺少访问令牌", "detail_en": "missing bearer token", "code": "unauthenticated"},
    403: {
        "detail": "您的角色无权执行此操作",
        "detail_en": "your role may not do this",
        "code": "role_forbidden",
    },
    404: {"detail": "未找到", "detail_en": "not found"},
    409: {"detail": "当前状态不允许此操作", "detail_en": "not allowed in the current state"},
    413: {"detail": "请求内容超过 1048576 字节上限", "detail_en": "request body exceeds 1048576 bytes"},
    415: {
        "detail": "请以 application/json 提交（收到的是 text/plain）",
        "detail_en": "send application/json (this was text/plain)",
        "code": "unsupported_media_type",
    },
    422: {
        "errors": [
            {
                "field": "requester.phone",
                "code": "invalid",
                "message": "电话号码格式不正确",
                "message_en": "invalid phone",
            }
        ]
    },
    429: {"detail": "请求过于频繁，请 30 秒后再试", "detail_en": "too many requests, retry in 30 s"},
    503: {
        "detail": "数据库或消息服务暂时不可用，您提交的内容未被保存，请稍后重试",
        "detail_en": "the database or the message broker is briefly unavailable; nothing was saved, please retry",
        "code": "dependency_unavailable",
    },
}


def problem_example(status: int) -> dict[str, Any]:
    zh, en = _TITLES.get(status, ("请求失败", "Request failed"))
    return {"type": "about:blank", "title": zh, "title_en": en, "status": status, **_EXAMPLES.get(status, {})}


def _problem_response(status: int) -> dict[str, Any]:
    zh, en = _TITLES.get(status, ("请求失败", "Request failed"))
    content = {"schema": {"$ref": "#/components/schemas/Problem"}, "example": problem_example(status)}
    return {"description": f"{zh} | {en}", "content": {PROBLEM_JSON: content}}


def _takes_json(op: dict[str, Any]) -> bool:
    content = (op.get("requestBody") or {}).get("content") or {}
    return any(m == "application/json" or m.endswith("+json") for m in content)


def statuses_for(method: str, path: str, rule: Rule | None, op: dict[str, Any]) -> set[int]:
    """The error statuses the request pipeline can give this operation (pure: tested alone)."""
    out = {500, 503}
    if rule is None or not rule.public:
        out |= {401, 403}
    if "{" in path:
        out.add(404)
    has_input = bool(op.get("parameters")) or "requestBody" in op or "{" in path
    if has_input:
        out.add(422)
    if method in _BODY_METHODS or "requestBody" in op:
        out |= {400, 413, 422}
    if _takes_json(op):
        out |= {400, 415}  # not JSON at all (400), not sent as JSON (415, hardening.MediaTypeGuard)
    if method in _BODY_METHODS:
        out.add(404)  # an object the body refers to (a parent, a service point) does not exist
    if rule is not None and rule.public and "/auth/" in path:
        out.add(401)  # a wrong password, an expired or reused refresh token
    if method in _BODY_METHODS | {"delete"}:
        out.add(409)  # a state or uniqueness conflict (allowed_actions say what is possible)
    if rule is not None and (rule.scopes or rule.public):
        out.add(429)  # API keys and public routes are rate-limited
    return out


def _security(rule: Rule | None) -> list[dict[str, list[str]]]:
    if rule is not None and rule.public:
        return []
    schemes: list[dict[str, list[str]]] = [{"bearer": []}]
    if rule is not None and rule.scopes:
        schemes.append({"apiKey": []})
    return schemes


def _who(rule: Rule | None) -> str:
    if rule is None:
        return "无访问规则：一律拒绝 | no access rule: always denied"
    if rule.public:
        return "公开 | public"
    parts = []
    if rule.roles:
        parts.append("角色 roles: " + ", ".join(sorted(rule.roles)))
    if rule.scopes:
        parts.append("API key scopes: " + ", ".join(sorted(rule.scopes)))
    return "；".join(parts)


def rewrite(schema: dict[str, Any], policy: dict[str, Rule]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["FieldError"] = FIELD_ERROR
    schemas["Problem"] = PROBLEM
    schemas["Open311Errors"] = OPEN311_ERRORS
    components["securitySchemes"] = SECURITY_SCHEMES
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            rule = policy.get(f"{method.upper()} {path}")
            responses = op["responses"]
            declared = {int(s) for s in responses if s.isdigit() and int(s) >= 400}
            open311 = path.startswith("/open311/")
            wanted = statuses_for(method, path, rule, op) | declared | ({400, 404} if open311 else set())
            for status in sorted(wanted):
                described = responses.get(str(status), {}).get("description")
                responses[str(status)] = (
                    _open311_response(status, path) if open311 else _problem_response(status)
                )
                if described and described not in ("Validation Error", "Successful Response"):
                    responses[str(status)]["description"] = described
            op["security"] = _security(rule)
            op["x-lawline-access"] = _who(rule)
            op["description"] = (
                op.get("description") or op.get("summary") or ""
            ) + f"\n\n访问 | access: {_who(rule)}"
            for code, resp in responses.items():
                content = resp.get("content") or {}
                if open311 and path.endswith(".xml") and code.startswith("2"):
                    root = "services" if "/services" in path else "service_requests"
                    resp["content"] = {
                        "application/xml": {"schema": {"type": "string"}, "example": f"<{root}>…</{root}>"}
                    }
                    continue
                if code.startswith("2") and "text/event-stream" in content:
                    resp["content"] = {"text/event-stream": content["text/event-stream"]}
    return schema


def install_contract_docs(app: FastAPI) -> None:
    """Replace app.openapi with the rewritten document (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            base = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = rewrite(base, getattr(app.state, "policy", {}))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
