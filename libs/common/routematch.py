"""Which of an app's routes a request's path names, for the answers the framework gets wrong:
a 405's `Allow` (Starlette lists only the first route that matched the path, so GET and POST
registered separately gave "Allow: GET") and whether the route reads a JSON body (the 415).

Looked up only on those rare paths (a 405, a body that is not JSON), so nothing is cached: routes
added after start-up (tests do) are seen too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from fastapi import params

# The order a person expects to read them in; anything else after, alphabetically.
_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _contexts(app: Any) -> Iterator[Any]:
    routes = getattr(app, "routes", ())
    try:  # FastAPI ≥ 0.16x keeps included routers nested; the contexts see through them
        from fastapi.routing import iter_route_contexts

        yield from iter_route_contexts(routes)
    except ImportError:  # pragma: no cover - older FastAPI: routes are flat
        yield from routes


def route_path(scope: Mapping[str, Any]) -> str:
    # As Starlette matches: the path below the root path the app is mounted at.
    path: str = scope.get("path", "")
    root = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def matching(app: Any, path: str) -> list[Any]:
    """The HTTP routes (with methods, so not mounts) whose template matches `path`."""
    out = []
    for rc in _contexts(app):
        regex = getattr(rc, "path_regex", None)
        if getattr(rc, "methods", None) and regex is not None and regex.match(path):
            out.append(rc)
    return out


def allowed_methods(app: Any, path: str) -> list[str]:
    methods = {m for rc in matching(app, path) for m in rc.methods}
    known = [m for m in _METHOD_ORDER if m in methods]
    return known + sorted(methods - set(known))


def takes_json_body(app: Any, scope: Mapping[str, Any]) -> bool:
    """True when the route this request reaches declares a body FastAPI reads as JSON (a pydantic
    model, a list, …), not a form or an upload, and not a route that reads the request itself
    (Open311's form-encoded POST)."""
    method = scope.get("method", "")
    for rc in matching(app, route_path(scope)):
        if method in rc.methods:
            body = getattr(rc, "body_field", None)
            return body is not None and not isinstance(body.field_info, params.Form)
    return False
