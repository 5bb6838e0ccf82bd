"""OpenAPI that tools can trust (#17): every operation of every service shows a request and a
response example, each example is valid against its own schema (and, for request models,
against the pydantic validators behind it), and the closed lists the code enforces are `enum`s
in the schema. Built without infrastructure, like tests/unit/test_openapi_contract.py.

Examples are validated with jsonschema_rs (the validator schemathesis itself uses), with
formats checked, so a uuid that is not a uuid or a date that is not a date fails here and not
in the fuzzer's examples phase."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import typing
from functools import cache
from typing import Any

import jsonschema_rs
import pytest
from pydantic import BaseModel

SERVICES = ("intake", "dispatch", "aid", "mediation", "identity")
# Routes every service gets from libs/common (audit, dead letters) are checked once, below.
SHARED = ("/v1/audit/", "/v1/dead-letters")
JSON = "application/json"


@cache
def _document(name: str) -> dict[str, Any]:
    return importlib.import_module(f"services.{name}.main").create_app().openapi()


def _in_scope(name: str, path: str) -> bool:
    return path.startswith("/v1/") or (name == "intake" and path.startswith("/open311/"))


def _operations(name: str, *, shared: bool) -> list[tuple[str, dict[str, Any]]]:
    ops = []
    for path, item in _document(name)["paths"].items():
        if not _in_scope(name, path) or path.startswith(SHARED) != shared:
            continue
        for method, op in item.items():
            ok = [r for s, r in op.get("responses", {}).items() if s.startswith("2")]
            if any("text/event-stream" in (r.get("content") or {}) for r in ok):
                continue  # the SSE stream: no JSON body to exemplify
            ops.append((f"{method.upper()} {path}", op))
    return ops


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Through $refs, and through an optional body's anyOf [the model, null]."""
    while True:
        if "$ref" in schema:
            schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
            continue
        branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
        if len(branches) == 1 and "$ref" in branches[0]:
            schema = branches[0]
            continue
        return schema


# pydantic writes `format: time` for a wall-clock time ("08:30", "17:30:00"); RFC 3339 would
# want an offset, but the API takes local 长治 time, offset optional.
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?")


def _wall_clock_time(value: str) -> bool:
    return _TIME.fullmatch(value) is not None


def _examples(doc: dict[str, Any], media: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
    """(example, schema it must satisfy) for a media type: its own examples, else its schema's."""
    schema = media.get("schema", {})
    found = []
    if "example" in media:
        found.append(media["example"])
    found += [e["value"] for e in (media.get("examples") or {}).values() if "value" in e]
    resolved = _resolve(doc, schema)
    found += list(resolved.get("examples") or [])
    if "example" in resolved:
        found.append(resolved["example"])
    if not found and resolved.get("type") == "array":
        # A list of a model that has examples: tools (Swagger UI, schemathesis) build the list
        # from the item's example, so the item's example is what must be there and valid.
        found = [[item] for item in _resolve(doc, resolved.get("items", {})).get("examples") or []]
    return [(example, schema) for example in found]


def _invalid(doc: dict[str, Any], schema: dict[str, Any], example: Any) -> str | None:
    if not isinstance(example, dict | list) and schema.get("type") == "string" and isinstance(example, str):
        return None  # an XML body shown as a string
    root = {**schema, "components": doc.get("components", {})}  # so #/components/... resolves
    validator = jsonschema_rs.Draft202012Validator(
        root, validate_formats=True, formats={"time": _wall_clock_time}
    )
    errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(example)]
    return "; ".join(errors[:3]) or None


def _problems(name: str, *, shared: bool) -> list[str]:
    doc = _document(name)
    out: list[str] = []
    for where, op in _operations(name, shared=shared):
        pairs: list[tuple[str, list[tuple[Any, dict[str, Any]]]]] = []
        body = (op.get("requestBody") or {}).get("content", {})
        if JSON in body:
            pairs.append(("request", _examples(doc, body[JSON])))
        for status, response in op["responses"].items():
            if not status.startswith("2"):
                continue
            for media_type, media in (response.get("content") or {}).items():
                pairs.append((f"{status} {media_type}", _examples(doc, media)))
        for what, examples in pairs:
            if not examples:
                out.append(f"{where}: no {what} example")
            for example, schema in examples:
                if error := _invalid(doc, schema, example):
                    out.append(f"{where}: {what} example invalid: {error}")
    return out


@pytest.mark.parametrize("name", SERVICES)
def test_every_operation_has_valid_request_and_response_examples(name):
    problems = _problems(name, shared=False)
    assert not problems, f"{name}: {len(problems)} operations lack valid examples:\n" + "\n".join(problems)


def test_the_shared_audit_and_dead_letter_routes_have_valid_examples():
    problems = _problems("intake", shared=True)
    assert not problems, "libs/common routes lack valid examples:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", SERVICES)
def test_every_schema_and_property_example_is_valid(name):
    """Examples a tool may use that no operation names directly: each component's, each property's."""
    doc = _document(name)
    bad = []
    for title, schema in doc["components"]["schemas"].items():
        for example in schema.get("examples") or []:
            if error := _invalid(doc, schema, example):
                bad.append(f"{title}: {error}")
        for prop, sub in (schema.get("properties") or {}).items():
            for example in sub.get("examples") or []:
                if error := _invalid(doc, sub, example):
                    bad.append(f"{title}.{prop} = {example!r}: {error}")
    assert not bad, f"{name}: invalid schema examples:\n" + "\n".join(bad)


def _models(name: str) -> list[type[BaseModel]]:
    package = importlib.import_module(f"services.{name}")
    found: dict[str, type[BaseModel]] = {}
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith(("schemas", "api")):  # models live in both
            continue
        module = importlib.import_module(f"services.{name}.{info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseModel) and obj.__module__ == module.__name__:
                found[obj.__qualname__] = obj
    return list(found.values())


@pytest.mark.parametrize("name", SERVICES)
def test_every_model_example_passes_the_models_own_validators(name):
    """The schema cannot say everything (check digits, region codes that exist): the model can."""
    bad = []
    for model in _models(name):
        for example in model.model_json_schema().get("examples") or []:
            try:
                model.model_validate(example)
            except Exception as exc:  # noqa: BLE001 (report every model, not the first)
                bad.append(f"{model.__name__}: {exc}")
    assert not bad, "\n".join(bad)


def _enum(doc: dict[str, Any], schema: dict[str, Any]) -> set[Any] | None:
    """The enum a property carries, looking through $ref, anyOf (nullable) and array items."""
    schema = _resolve(doc, schema)
    if "enum" in schema:
        return set(schema["enum"])
    if "const" in schema:
        return {schema["const"]}
    for key in ("anyOf", "oneOf"):
        values = [_enum(doc, s) for s in schema.get(key, []) if s.get("type") != "null"]
        if values and all(v is not None for v in values):
            return set().union(*values)
    if "items" in schema:
        return _enum(doc, schema["items"])
    return None


def _closed_lists() -> list[tuple[str, str, str, set[str]]]:
    """(service, schema, property, the values the code accepts), the values read from the code."""
    from services.dispatch import schemas as dispatch
    from services.dispatch.service import REJECT_REASONS
    from services.identity.domain import ASSIGNABLE_ROLES
    from services.intake import schemas as intake
    from services.intake import validation as iv

    lit = typing.get_args
    return [
        ("intake", "WorkOrderCreate", "channel", set(lit(intake.Channel))),
        ("intake", "WorkOrderCreate", "service_type", set(iv.SERVICE_TYPES)),
        ("intake", "WorkOrderCreate", "domain", set(iv.DOMAINS)),
        ("intake", "WorkOrderCreate", "special_groups", set(iv.SPECIAL_GROUPS)),
        ("intake", "ClassificationIn", "service_type", set(iv.SERVICE_TYPES)),
        ("intake", "ClassificationIn", "special_groups", set(iv.SPECIAL_GROUPS)),
        ("intake", "PublicRequestIn", "special_groups", set(iv.SPECIAL_GROUPS)),
        ("intake", "ExternalDetails", "source", set(iv.EXTERNAL_SOURCES)),
        ("intake", "WorkOrderCreate", "urgency", set(lit(intake.Urgency))),
        ("intake", "ExternalDetails", "source", set(lit(intake.ExternalSource))),
        ("intake", "AttemptIn", "outcome", set(lit(intake.CallbackOutcome))),
        ("dispatch", "RejectIn", "reason_code", set(REJECT_REASONS)),
        ("dispatch", "PartyIn", "side", {"requester", "counterparty"}),
        ("dispatch", "ServicePointIn", "tier", set(lit(dispatch.TIER))),
        ("dispatch", "StaffIn", "role", set(lit(dispatch.StaffRole))),
        ("dispatch", "StaffPatch", "role", set(lit(dispatch.StaffRole))),
        ("dispatch", "RosterSlotIn", "kind", {"weekly", "on_call"}),
        ("dispatch", "RosterExceptionIn", "kind", {"extra", "off"}),
        ("identity", "AccountCreate", "roles", set(ASSIGNABLE_ROLES)),
        ("identity", "AccountPatch", "roles", set(ASSIGNABLE_ROLES)),
        *_response_closed_lists(),
    ]


def _response_closed_lists() -> list[tuple[str, str, str, set[str]]]:
    """The closed lists of answers (documented, not validated: see the schemas' comments)."""
    from libs.common.auth import ROLES
    from services.dispatch import schemas as dispatch
    from services.dispatch.domain import BAND_ZH
    from services.identity import schemas as identity
    from services.identity import schemas_accounts as accounts
    from services.identity.domain import ASSIGNABLE_ROLES
    from services.intake import domain as intake_domain
    from services.intake import schemas as intake
    from services.intake import validation as iv
    from services.mediation import domain as mediation_domain
    from services.mediation import schemas as mediation

    lit = typing.get_args
    statuses = set(intake_domain.STATUSES)
    return [
        *[
            ("intake", model, "status", statuses)
            for model in (
                "WorkOrderCreated",
                "WorkOrderOut",
                "WorkOrderListItem",
                "TrackOut",
                "PublicRequestOut",
            )
        ],
        ("intake", "ReemittedOrderOut", "status", statuses),
        ("intake", "WorkOrderOut", "channel", set(iv.CHANNELS)),
        ("intake", "WorkOrderListItem", "channel", set(iv.CHANNELS)),
        ("intake", "WorkOrderOut", "service_type", set(iv.SERVICE_TYPES)),
        ("intake", "WorkOrderListItem", "domain", set(iv.DOMAINS)),
        ("intake", "WorkOrderOut", "special_groups", set(iv.SPECIAL_GROUPS)),
        ("intake", "WorkOrderOut", "urgency", set(iv.URGENCY_RANK)),
        ("intake", "WorkOrderCreated", "urgency", set(iv.URGENCY_RANK)),
        ("intake", "TaskOut", "kind", set(lit(intake.TaskKind))),
        ("intake", "TaskOut", "status", set(lit(intake.TaskStatus))),
        ("intake", "TaskOut", "outcome", set(lit(intake.CallbackOutcome))),
        ("intake", "RatingOut", "via", set(lit(intake.RatingVia))),
        ("dispatch", "AssignmentOut", "status", set(dispatch.ASSIGNMENT_STATUSES)),
        ("dispatch", "AssignmentOut", "kind", set(dispatch.ASSIGNMENT_KINDS)),
        ("dispatch", "OrderClockOut", "status", set(dispatch.ORDER_STATUSES)),
        ("dispatch", "OrderClockOut", "clock", set(dispatch.CLOCKS)),
        ("dispatch", "OrderClockOut", "state", set(dispatch.CLOCK_STATES)),
        ("dispatch", "ReplyExtensionOut", "status", set(dispatch.EXTENSION_STATUSES)),
        ("dispatch", "ReplyExtensionOut", "allowed_actions", set(dispatch.EXTENSION_ACTIONS)),
        ("dispatch", "ServicePointOut", "tier", set(lit(dispatch.TIER))),
        ("dispatch", "StaffOut", "role", set(lit(dispatch.StaffRole))),
        ("dispatch", "DecisionOut", "complexity_band", set(BAND_ZH)),
        ("dispatch", "CalendarYearOut", "source", set(dispatch.CALENDAR_SOURCES)),
        ("identity", "MeOut", "kind", set(identity.PRINCIPAL_KINDS)),
        ("identity", "MeOut", "roles", set(ROLES)),
        ("identity", "UserOut", "roles", set(ROLES)),
        ("identity", "AccountOut", "roles", set(ASSIGNABLE_ROLES)),
        ("identity", "AccountOut", "disabled_reason", set(accounts.DISABLED_REASONS)),
        ("mediation", "CaseDetail", "status", set(mediation_domain.STATUSES)),
        ("mediation", "SessionOut", "status", set(mediation.SESSION_STATUSES)),
        ("mediation", "AgreementOut", "form", set(mediation.AGREEMENT_FORMS)),
        ("mediation", "FollowUpOut", "kind", set(lit(mediation.FollowUpKind))),
        ("mediation", "FollowUpOut", "performance", set(lit(mediation.Performance))),
        ("mediation", "RecusalOut", "raised_by", set(lit(mediation.RaisedBy))),
        ("mediation", "FollowUpIn", "kind", set(lit(mediation.FollowUpKind))),
        ("mediation", "RecusalIn", "raised_by", set(lit(mediation.RaisedBy))),
    ]


@pytest.mark.parametrize(
    ("name", "schema", "prop", "values"),
    _closed_lists(),
    ids=[f"{n}-{s}.{p}" for n, s, p, _ in _closed_lists()],
)
def test_closed_lists_are_enums_in_the_schema(name, schema, prop, values):
    doc = _document(name)
    got = _enum(doc, doc["components"]["schemas"][schema]["properties"][prop])
    assert got == values, f"{name} {schema}.{prop}: schema enum {got}, code accepts {values}"


def test_the_work_order_list_filters_name_their_values():
    """intake's list filters refuse an unknown value (api.check_list_values): the schema lists them."""
    from services.intake import api, queries
    from services.intake import validation as iv

    op = _document("intake")["paths"]["/v1/work-orders"]["get"]
    params = {p["name"]: p["schema"] for p in op["parameters"]}
    doc = _document("intake")
    assert _enum(doc, params["status"]) == set(queries.STATUS_ZH)
    assert _enum(doc, params["channel"]) == set(api.LIST_CHANNELS)
    assert _enum(doc, params["service_type"]) == set(iv.SERVICE_TYPES)
    assert _enum(doc, params["domain"]) == set(iv.DOMAINS)
    assert _enum(doc, params["special_group"]) == set(iv.SPECIAL_GROUPS)


def test_the_task_list_filters_name_their_values():
    """/v1/tasks filters by the tasks' own closed lists (the same Literals TaskOut documents)."""
    from services.intake import schemas as intake

    doc = _document("intake")
    op = doc["paths"]["/v1/tasks"]["get"]
    params = {p["name"]: p["schema"] for p in op["parameters"]}
    assert _enum(doc, params["kind"]) == set(typing.get_args(intake.TaskKind))
    assert _enum(doc, params["status"]) == set(typing.get_args(intake.TaskStatus))
    assert "pattern" not in str(params["kind"]) + str(params["status"])


def test_the_mediation_case_detail_rows_keep_every_column():
    """service.detail answers each session, agreement, follow-up and recusal as its row (every
    column but case_id): the typed sub-models name exactly those keys, none more, none less."""
    from services.mediation import models, schemas

    pairs = [
        (schemas.SessionOut, models.MediationSession),
        (schemas.AgreementOut, models.Agreement),
        (schemas.FollowUpOut, models.FollowUp),
        (schemas.RecusalOut, models.Recusal),
    ]
    for out, row in pairs:
        columns = {c.key for c in row.__table__.columns} - {"case_id"}
        assert set(out.model_fields) == columns, out.__name__
