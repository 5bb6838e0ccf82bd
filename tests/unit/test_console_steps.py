"""Case-step forms become the bodies the aid and mediation services' schemas expect."""

from __future__ import annotations

from services.aid.schemas import ApplicationIn, CloseIn, DecisionIn
from services.console.api_cases import STEP_PATHS, STEPS, step_body
from services.mediation.schemas import AgreementIn, ConsentIn, PartyAddIn, SessionIn


def fields(service: str, action: str):  # type: ignore[no-untyped-def]
    return dict(STEPS[service])[action]


def test_aid_application_nests_and_validates_against_aids_schema():
    form = {
        "applicant.name": "王秀英",
        "applicant.phone": "",
        "matter.category": "labour_pay",
        "matter.cause": "追索劳动报酬",
        "matter.stage": "",
        "requested_form": "arbitration_agency",
        "means.household_size": "3",
        "means.monthly_income": "1800.5",
        "means.verification": "honesty_commitment",
        "attachments": ["identity", "matter_materials", "not-a-material"],
        "accept_with_missing": "no",
    }
    body = step_body(fields("aid", "application"), form)
    assert body == {
        "applicant": {"name": "王秀英"},
        "matter": {"category": "labour_pay", "cause": "追索劳动报酬"},
        "requested_form": "arbitration_agency",
        "means": {"household_size": 3, "monthly_income": 1800.5, "verification": "honesty_commitment"},
        "attachments": [{"kind": "identity"}, {"kind": "matter_materials"}],
        "accept_with_missing": False,
    }
    ApplicationIn.model_validate(body)
    DecisionIn.model_validate(step_body(fields("aid", "decision"), {"decision": "grant", "reasons": "符合"}))
    close = step_body(
        fields("aid", "close"), {"documents": "结案报告\n\n裁决书 ", "report": "x" * 10, "outcome": "胜诉"}
    )
    assert close["documents"] == ["结案报告", "裁决书"]
    CloseIn.model_validate(close)


def test_mediation_steps_match_mediations_schemas():
    parties = step_body(
        fields("mediation", "parties"), {"parties.0.side": "respondent", "parties.0.name": "赵建国"}
    )
    assert parties == {"parties": [{"side": "respondent", "name": "赵建国"}]}
    PartyAddIn.model_validate(parties)
    ConsentIn.model_validate(
        step_body(
            fields("mediation", "consents"),
            {"party_id": "6f1c1c9e-8f7e-4a57-9a51-2b3c4d5e6f70", "decision": "given", "method": "oral"},
        )
    )
    session = step_body(
        fields("mediation", "sessions"), {"scheduled_at": "2026-12-01T09:30", "location": "调解室"}
    )
    assert session["scheduled_at"] == "2026-12-01T09:30:00+08:00"  # datetime-local is China time
    SessionIn.model_validate(session)
    agreement = {n: "内容" for n, _, _ in fields("mediation", "agreement")} | {
        "performance_deadline": "2026-12-15"
    }
    AgreementIn.model_validate(step_body(fields("mediation", "agreement"), agreement))
    assert STEP_PATHS["signatures"] == "agreement/signatures"


def test_empty_fields_are_left_to_the_services_defaults():
    assert step_body(fields("aid", "assign"), {"lawyer_id": "  "}) == {}
