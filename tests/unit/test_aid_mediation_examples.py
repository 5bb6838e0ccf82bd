"""Aid's and mediation's OpenAPI examples and enums (#17), checked against the models themselves:
every request model carries an example that its own validators accept (ID check digits, Art 42
proofs, court procedure only for court referrals), every response model an example it parses,
and each closed list the code enforces or writes is an `enum` with exactly the code's values."""

from __future__ import annotations

import inspect
import typing

import pytest
from pydantic import BaseModel, ValidationError

from services.aid import domain as aid_domain
from services.aid import schemas as aid
from services.aid.document import KINDS
from services.mediation import domain as med_domain
from services.mediation import schemas as med


def _models(module) -> list[type[BaseModel]]:  # type: ignore[no-untyped-def]
    return [
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, BaseModel) and obj.__module__ == module.__name__ and obj is not med.Strict
    ]


MODELS = [*_models(aid), *_models(med)]
IDS = [f"{m.__module__.split('.')[1]}.{m.__name__}" for m in MODELS]


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_every_model_has_an_example_its_validators_accept(model):
    found = model.model_json_schema().get("examples") or []
    assert found, f"{model.__name__} has no example"
    for example in found:
        model.model_validate(example)  # raises with the field that is wrong


def _enum(model: type[BaseModel], prop: str, mode: str = "validation") -> set:
    schema = model.model_json_schema(mode=mode)  # type: ignore[arg-type]
    sub = schema["properties"][prop]
    if "items" in sub:
        sub = sub["items"]
    for branch in sub.get("anyOf", [sub]):
        if "enum" in branch:
            return set(branch["enum"])
    raise AssertionError(f"{model.__name__}.{prop} has no enum: {sub}")


def _matters() -> set[str]:
    r = aid.get_rules()
    keys = {*r.scope_art31, *r.no_means_test_art32, *r.criminal_applications}
    for extra in r.provincial_extensions.values():
        keys |= set(extra)
    return keys


lit = typing.get_args
CLOSED = [
    (aid.MatterIn, "category", _matters()),
    (aid.AttachmentIn, "kind", set(aid_domain.ATTACHMENT_NAMES)),
    (aid.ApplicationIn, "exemption", set(aid_domain.EXEMPTIONS)),
    (aid.ApplicationIn, "special_groups", set(aid_domain.SPECIAL_GROUPS)),
    (aid.ApplicationIn, "requested_form", set(lit(aid.AidForm))),
    (aid.ApplicantIn, "gender", {"male", "female", "unknown"}),
    (aid.ProxyIn, "kind", set(lit(aid.ProxyKind))),
    (aid.MeansIn, "verification", {"data_sharing", "honesty_commitment"}),
    (aid.DecisionIn, "decision", {"grant", "refuse"}),
    (aid.TerminateIn, "cause", set(aid_domain.TERMINATION_CAUSES)),
    (aid.NotificationIn, "ground", set(aid_domain.NOTIFICATION_GROUNDS)),
    (aid.NotificationIn, "body_kind", {"court", "procuratorate", "police"}),
    (aid.ReturnVisitIn, "satisfaction", {"satisfied", "basically_satisfied", "unsatisfied"}),
    (aid.ObjectionDecisionIn, "outcome", {"accept", "reject"}),
    (aid.CaseOut, "status", set(aid_domain.STATES)),
    (aid.CaseOut, "allowed_actions", set(aid_domain.TRANSITIONS)),
    (aid.CaseOut, "special_groups", set(aid_domain.SPECIAL_GROUPS)),
    (aid.ClockOut, "name", {*aid_domain.CLOCKS, "supplement"}),
    (aid.LogOut, "to_state", set(aid_domain.STATES)),
    (med.CaseIn, "source", set(med_domain.SOURCES)),
    (med.CaseIn, "court_procedure", set(med_domain.COURT_PROCEDURES)),
    (med.CaseIn, "dispute_type", set(med_domain.DISPUTE_TYPES)),
    (med.PartyIn, "side", {"applicant", "respondent"}),
    (med.PartyIn, "kind", {"person", "organisation"}),
    (med.ConsentIn, "method", {"written", "oral", "signed_form"}),
    (med.SignIn, "method", set(med_domain.SIGN_METHODS)),
    (med.SignIn, "signer", {"party", "mediator", "committee_seal"}),
    (med.RiskIn, "risk_kind", {"violence", "criminal", "self_harm", "mass_incident"}),
    (med.FollowUpIn, "performance", {"full", "partial", "none"}),
    (med.CaseOut, "status", set(med_domain.STATUSES)),
    (med.CaseOut, "outcome", {"refused", "failed", "agreed_written", "agreed_oral"}),
    (med.CaseDetail, "allowed_actions", set(med_domain.TRANSITIONS) - med_domain.SYSTEM_ACTIONS),
    (med.PartyOut, "consent", {"pending", "given", "refused"}),
    (med.LiaisonOut, "status", {"open", "acknowledged"}),
    (med.CommitteeOut, "kind", set(med_domain.COMMITTEE_KINDS)),
]


@pytest.mark.parametrize(("model", "prop", "values"), CLOSED, ids=[f"{m.__name__}.{p}" for m, p, _ in CLOSED])
def test_closed_lists_are_enums(model, prop, values):
    mode = "serialization" if model.__name__.endswith(("Out", "Detail")) else "validation"
    assert _enum(model, prop, mode) == values


def test_a_document_kind_and_a_status_filter_are_enums_in_the_aid_document():
    from services.aid.main import create_app

    doc = create_app().openapi()
    params = {p["name"]: p["schema"] for p in doc["paths"]["/v1/cases"]["get"]["parameters"]}
    assert set(params["status"]["enum"]) == set(aid_domain.STATES)
    path = doc["paths"]["/v1/cases/{case_id}/documents/{kind}.html"]["get"]["parameters"]
    assert next(p for p in path if p["name"] == "kind")["schema"]["enum"] == sorted(KINDS)


def _message(model: type[BaseModel], data: dict) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return str(caught.value)


def test_the_validators_keep_their_own_bilingual_messages():
    """The enum documents the list; the refusal still names the article or lists the choices."""
    assert "第四十八条" in _message(aid.TerminateIn, {"cause": "bored", "reason": "不想继续了"})
    assert "材料类型无效" in _message(aid.AttachmentIn, {"kind": "photo"})
    example = aid.ApplicationIn.model_json_schema()["examples"][0]
    said = _message(aid.ApplicationIn, {**example, "special_groups": ["celebrity"]})
    assert "特殊群体 celebrity 无效" in said and "unknown special group" in said
