"""Each service's /openapi.json says what the service really answers (#17): every error as
problem+json with errors[], the security schemes and each operation's access rule, SSE as
text/event-stream. (That the statuses met are the statuses listed is checked against the live
services in tests/integration/test_security_matrix.py.)"""

from __future__ import annotations

import importlib

import pytest

from libs.common.problems import PROBLEM_JSON

SERVICES = ("intake", "dispatch", "aid", "mediation", "identity")


def _document(name: str) -> dict:
    app = importlib.import_module(f"services.{name}.main").create_app()
    return app.openapi(), app.state.policy


@pytest.mark.parametrize("name", SERVICES)
def test_every_operation_documents_problems_security_and_access(name):
    doc, policy = _document(name)
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    ops = [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]
    assert ops
    for path, method, op in ops:
        rule = policy[f"{method.upper()} {path}"]  # the document and the policy name the same routes
        where = f"{name} {method.upper()} {path}"
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert PROBLEM_JSON in response["content"], where
                problem = response["content"][PROBLEM_JSON]
                assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}, where
                # every error a client can meet comes with an example of itself
                assert problem["example"]["status"] == int(status) and problem["example"]["title_en"], where
        statuses = set(op["responses"])
        assert {"500", "503"} <= statuses, where
        if rule.public:
            assert op["security"] == [], where  # (a login may still answer 401: a wrong password)
        else:
            assert {"bearer": []} in op["security"] and {"401", "403"} <= statuses, where
            assert ({"apiKey": []} in op["security"]) == bool(rule.scopes), where
        if "{" in path:
            assert "404" in statuses, where
        if "requestBody" in op:
            assert {"400", "413", "422"} <= statuses, where
            if "application/json" in op["requestBody"]["content"]:
                assert "415" in statuses, where  # sent as another media type (hardening.MediaTypeGuard)


def test_the_live_inbox_is_documented_as_an_event_stream():
    doc, _ = _document("dispatch")
    ok = doc["paths"]["/v1/inbox/stream"]["get"]["responses"]["200"]
    assert list(ok["content"]) == ["text/event-stream"]


def test_open311s_form_post_does_not_claim_415():
    doc, _ = _document("intake")
    post = doc["paths"]["/open311/v2/requests.json"]["post"]
    assert "application/json" not in post["requestBody"]["content"] and "415" not in post["responses"]


def test_a_malformed_body_example_names_the_body():
    doc, _ = _document("intake")
    example = doc["paths"]["/v1/work-orders"]["post"]["responses"]["400"]["content"][PROBLEM_JSON]["example"]
    assert example["code"] == "json_invalid" and example["errors"][0]["field"] == "body"
    assert example["detail"] and example["detail_en"]


def test_a_field_error_example_has_the_shape_clients_parse():
    doc, _ = _document("intake")
    example = doc["paths"]["/v1/work-orders"]["post"]["responses"]["422"]["content"][PROBLEM_JSON]["example"]
    assert example["status"] == 422 and example["title_en"]
    assert {"field", "code", "message", "message_en"} <= set(example["errors"][0])
