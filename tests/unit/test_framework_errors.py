"""Issue #17: the errors Starlette and FastAPI produce themselves (unknown path, wrong method,
unreadable or non-JSON bodies, refused CORS preflights) are problem+json in both languages, and
the OpenAPI document lists the 400 and 415 they can give — through the same request pipeline
every service installs (libs.common.app.install_request_pipeline)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Form, HTTPException, Request
from pydantic import BaseModel, ConfigDict

from libs.common.app import install_request_pipeline
from libs.common.auth import PUBLIC
from libs.common.framework_errors import bilingual
from libs.common.openapi_docs import install_contract_docs, statuses_for
from libs.common.problems import PROBLEM_JSON, Problem


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str


def _app() -> FastAPI:
    app = FastAPI()
    install_request_pipeline(app)
    install_contract_docs(app)
    router = APIRouter(prefix="/v1")

    # GET and POST registered separately, one of them through an included router: Starlette's
    # own Allow named only the first.
    @router.get("/things")
    async def list_things() -> list[str]:
        return []

    @router.post("/things", status_code=201)
    async def create(body: Thing) -> Thing:
        return body

    @router.put("/things/{n}")
    async def replace(n: int, body: Thing | None = None) -> dict:
        return {"n": n, "body": body.model_dump() if body else None}

    @router.get("/things/{n}")
    async def get_thing(n: int) -> dict:
        if n == 0:
            raise HTTPException(404)
        raise Problem(404, "没有这件事", "no such thing")

    app.include_router(router)

    @app.delete("/v1/things")
    async def clear() -> dict:
        return {}

    # Read as a form by FastAPI, and read by the route itself (as Open311's POST is): not JSON
    # routes, so never a 415.
    @app.post("/v1/form")
    async def form(name: str = Form()) -> dict:
        return {"name": name}

    @app.post("/v1/raw")
    async def raw(request: Request) -> dict:
        return {"name": (await request.form()).get("name")}

    return app


def _client(app: FastAPI | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app or _app()), base_url="http://t")


def _problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body = r.json()
    assert body["status"] == status and body["title"] and body["title_en"]
    assert body["detail"] and body["detail_en"] and body["detail"] != body["detail_en"]
    return body


async def test_unknown_path_is_a_bilingual_404_naming_the_path():
    async with _client() as c:
        body = _problem(await c.get("/v1/nowhere", headers={"x-correlation-id": "cid-404"}), 404)
    assert body["detail"] == "没有这个地址：/v1/nowhere"
    assert body["detail_en"] == "no such path: /v1/nowhere"
    assert body["code"] == "no_such_path"


async def test_a_routes_own_404_keeps_its_words():
    async with _client() as c:
        bare = _problem(await c.get("/v1/things/0"), 404)  # HTTPException(404) without words
        own = _problem(await c.get("/v1/things/1"), 404)
    assert (bare["detail"], bare["detail_en"]) == ("未找到", "not found") and "code" not in bare
    assert (own["detail"], own["detail_en"]) == ("没有这件事", "no such thing")


async def test_wrong_method_is_a_405_allowing_every_method_of_the_path():
    async with _client() as c:
        r = await c.patch("/v1/things")
        body = _problem(r, 405)
        assert r.headers["allow"] == "GET, POST, DELETE"
        assert body["detail"] == "此地址不支持 PATCH，可用：GET, POST, DELETE"
        assert body["detail_en"] == "PATCH is not supported here; allowed: GET, POST, DELETE"
        r = await c.delete("/v1/things/3")  # a templated path: its own two methods only
        assert _problem(r, 405) and r.headers["allow"] == "GET, PUT"


@pytest.mark.parametrize(
    ("content", "position"),
    [(b'{"title": "a",}', 15), (b'{"title": ', 11), (b"\xff\xfe", 1)],
)
async def test_malformed_json_is_400_on_the_body_with_the_position_in_words(content: bytes, position: int):
    async with _client() as c:
        r = await c.post("/v1/things", content=content, headers={"content-type": "application/json"})
    body = _problem(r, 400)
    assert body["code"] == "json_invalid"
    [error] = body["errors"]
    assert error["field"] == "body" and error["code"] == "json_invalid"
    assert f"第 {position} 个字符" in error["message"] and f"character {position}" in error["message_en"]


async def test_json_that_is_not_utf8_is_the_same_400():
    async with _client() as c:
        r = await c.post(
            "/v1/things", content=b'{"title": "\xff\xfe"}', headers={"content-type": "application/json"}
        )
    body = _problem(r, 400)
    assert body["code"] == "json_invalid"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("body", "json_invalid")]


async def test_valid_json_of_the_wrong_shape_stays_422():
    async with _client() as c:
        for sent in ([1, 2], {"title": 5}, {"title": "x", "status": "closed"}):
            r = await c.post("/v1/things", json=sent)
            assert r.status_code == 422 and r.json()["errors"][0]["field"] != "body.0", r.text


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
async def test_a_json_route_refuses_other_media_types_with_415(content_type: str):
    async with _client() as c:
        r = await c.post("/v1/things", content=b'{"title": "x"}', headers={"content-type": content_type})
        body = _problem(r, 415)
        assert body["code"] == "unsupported_media_type"
        assert "application/json" in body["detail"] and "send application/json" in body["detail_en"]
        assert content_type in body["detail_en"]
        # an optional body too: what was sent cannot be read as the route reads it
        assert (
            await c.put("/v1/things/1", content=b"x", headers={"content-type": content_type})
        ).status_code == 415


async def test_json_by_any_json_media_type_and_empty_bodies_reach_the_route():
    async with _client() as c:
        r = await c.post(
            "/v1/things", content=b'{"title": "x"}', headers={"content-type": "application/merge-patch+json"}
        )
        assert r.status_code == 201
        r = await c.put("/v1/things/1", content=b"", headers={"content-type": "text/plain"})
        assert r.status_code == 200 and r.json()["body"] is None  # no body: the optional default
        r = await c.post("/v1/things", content=b"", headers={"content-type": "text/plain"})
        assert r.status_code == 422 and r.json()["errors"][0]["code"] == "missing"


async def test_without_content_type_json_is_read_as_json_and_anything_else_is_415():
    async with _client() as c:
        ok = await c.post("/v1/things", content=b'{"title": "x"}')
        assert "content-type" not in ok.request.headers
        assert ok.status_code == 201 and ok.json() == {"title": "x"}
        _problem(await c.post("/v1/things", content=b"title=x"), 415)


async def test_form_routes_and_routes_reading_the_request_are_not_415():
    async with _client() as c:
        assert (await c.post("/v1/form", data={"name": "李"})).json() == {"name": "李"}
        assert (await c.post("/v1/raw", data={"name": "李"})).json() == {"name": "李"}


async def test_fastapis_unreadable_form_is_a_bilingual_400_on_the_body():
    async with _client() as c:
        r = await c.post(
            "/v1/form", content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data"}
        )
    body = _problem(r, 400)
    [error] = body["errors"]
    assert body["code"] == error["code"] == "body_unreadable" and error["field"] == "body"
    assert "Missing boundary" in error["message_en"] and error["message"]


async def test_a_refused_cors_preflight_is_problem_json():
    headers = {"origin": "https://evil.example", "access-control-request-method": "POST"}
    async with _client() as c:
        body = _problem(await c.options("/v1/things", headers=headers), 400)
        assert body["code"] == "cors_refused" and "origin" in body["detail_en"]
        fine = {**headers, "origin": "http://localhost:8000"}
        assert (await c.options("/v1/things", headers=fine)).status_code == 200


def test_our_own_http_exceptions_are_split_into_both_languages():
    assert bilingual(429, "请求过于频繁，请 3 秒后再试（too many requests, retry in 3 s）") == (
        "请求过于频繁，请 3 秒后再试",
        "too many requests, retry in 3 s",
    )
    assert bilingual(405, "Method Not Allowed")[0] and bilingual(406, "no XML here") == (
        "无法以请求的格式回答",
        "no XML here",
    )
    assert bilingual(409, "只有中文") == ("只有中文", "conflict")


def test_json_bodies_document_400_and_415_and_forms_do_not_claim_415():
    json_op = {"requestBody": {"content": {"application/json": {"schema": {}}}}}
    form_op = {"requestBody": {"content": {"application/x-www-form-urlencoded": {}}}}
    assert {400, 413, 415, 422} <= statuses_for("post", "/v1/things", PUBLIC, json_op)
    assert 415 not in statuses_for("post", "/open311/v2/requests.json", PUBLIC, form_op)
    assert 415 not in statuses_for("get", "/v1/things", PUBLIC, {})


def test_every_documented_error_carries_an_example_of_its_status():
    doc = _app().openapi()
    post = doc["paths"]["/v1/things"]["post"]["responses"]
    assert {"400", "415"} <= set(post)
    for item in doc["paths"].values():
        for op in item.values():
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    example = response["content"][PROBLEM_JSON]["example"]
                    assert example["status"] == int(status) and example["title_en"]
    assert post["400"]["content"][PROBLEM_JSON]["example"]["errors"][0]["field"] == "body"
