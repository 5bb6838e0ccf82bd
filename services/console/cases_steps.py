"""The step forms of the case screens: for each step of the aid and mediation services, the
state-machine action it performs, who may do it (the services' access policies), its fields and
the legal basis shown beside it. Which of them a case offers is cases_view's business."""

from __future__ import annotations

from dataclasses import dataclass

# A form field: (name, kind, options). Kinds (see api_cases.step_body):
# text | textarea | number | date | datetime | lines (one list item per line) | select | bool |
# choice (select with an empty "—" first) | fixed (hidden, options[0]) | attachments / missing
# (checkboxes of materials → [{"kind": code}]) | party (select of parties) | pending_party (only
# parties whose consent is pending) | party_ids (checkboxes of parties, all ticked) | session
# (select of scheduled sessions: a path parameter) | lawyer / mediator (people pickers).
Field = tuple[str, str, tuple[str, ...]]
MULTI_KINDS = ("attachments", "missing", "party_ids")

ATTACHMENTS = (
    "identity",
    "proxy_proof",
    "matter_materials",
    "hardship_statement",
    "honesty_commitment",
    "no_fixed_income_proof",
    "disability_certificate",
    "social_relief_certificate",
    "judicial_relief_decision",
    "special_care_certificate",
    "migrant_work_proof",
)
MATTERS = ("labour_pay", "work_injury", "traffic_injury", "support_maintenance", "medical_injury")
EXEMPTIONS = (
    "minor_no_income",
    "elderly_no_income",
    "disabled_no_income",
    "social_relief",
    "judicial_relief",
    "special_care",
    "migrant_worker",
)
TERMINATION_CAUSES = (
    "fraud",
    "concealment",
    "illegal_use",
    "finances_improved",
    "case_ended",
    "own_lawyer",
    "recipient_request",
    "other",
)
AID_FORMS = (
    "civil_litigation_agency",
    "arbitration_agency",
    "non_litigation_agency",
    "administrative_litigation_agency",
    "state_compensation_agency",
    "document_drafting",
    "consultation",
)

DISPUTE_TYPES = (
    "neighbour",
    "marriage",
    "family",
    "adoption",
    "personal_status",
    "land",
    "property_management",
    "contract",
    "debt",
    "damages",
    "labour",
    "traffic",
    "medical",
    "consumer",
    "other",
)
DESK = ("aid_officer", "counter_staff", "admin")  # services/aid/access.py
OFFICER = ("aid_officer", "admin")
LAWYER = ("lawyer",)
WORK = ("mediator", "admin")  # services/mediation/access.py
REGISTER = ("mediator", "counter_staff", "admin")


@dataclass(frozen=True)
class Step:
    key: str  # console action: the form's testid step-{key} and POST /cases/{service}/{id}/{key}
    backend: str  # the service's state-machine action (its allowed_actions code)
    roles: tuple[str, ...]
    fields: list[Field]
    path: str = ""  # under /v1/cases/{id}/ (default: key); "{session_id}" filled from the form
    more: bool = False  # corrections and exceptional endings: folded away under 其他操作
    law: str = ""  # the i18n key of the legal basis shown with the form
    method: str = "POST"  # PATCH: a correction of the case itself (path "")

    @property
    def endpoint(self) -> str:
        return self.path or ("" if self.method == "PATCH" else self.key)


AID_STEPS: list[Step] = [
    Step(
        "application",  # 法律援助法 Art 41-44: matter, form, means (or an exemption), materials
        "accept_application",
        DESK,
        [
            ("applicant.name", "text", ()),
            ("applicant.phone", "text", ()),
            ("applicant.id_number", "text", ()),
            ("matter.category", "select", MATTERS),
            ("matter.cause", "text", ()),
            ("matter.stage", "text", ()),
            ("matter.opposing_parties", "lines", ()),
            ("requested_form", "select", AID_FORMS),
            ("means.household_size", "number", ()),
            ("means.monthly_income", "number", ()),
            ("means.verification", "select", ("honesty_commitment", "data_sharing")),
            ("exemption", "choice", EXEMPTIONS),
            # Art 43 一次性告知: what is not ticked here is listed back to the applicant in one go.
            ("attachments", "attachments", ATTACHMENTS[:5]),
            ("accept_with_missing", "bool", ("no", "yes")),
            # Art 44 先行提供: a limitation period < 7 days away, or preservation needed at once.
            ("matter.limitation_due", "date", ()),
            ("matter.urgent_preservation", "bool", ("no", "yes")),
            # Art 43 counts from the receipt: a paper form received earlier says when, and why.
            ("received_at", "datetime", ()),
            ("receipt_reason", "text", ()),
        ],
        law="law.aid_application",
    ),
    Step(
        "supplement",
        "accept_application",
        DESK,
        [("attachments", "missing", ATTACHMENTS)],
        law="law.aid_supplement",
    ),
    Step(
        "decision",
        "grant",
        OFFICER,
        [("decision", "select", ("grant", "refuse")), ("reasons", "textarea", ())],
        law="law.aid_decision",
    ),  # fmt: skip
    Step("assign", "assign", OFFICER, [("lawyer_id", "lawyer", ())], law="law.aid_assign"),
    Step("lawyer-accept", "lawyer_accept", LAWYER, [("firm_consent_by", "text", ())], law="law.aid_accept"),
    Step("progress", "report_progress", LAWYER, [("note", "textarea", ())]),
    Step(
        "close",
        "close",
        LAWYER,
        [("documents", "lines", ()), ("report", "textarea", ()), ("outcome", "text", ())],
        law="law.aid_close",
    ),
    Step(
        "subsidy",
        "record_subsidy",
        OFFICER,
        [("amount", "number", ()), ("standard", "text", ())],
        law="law.aid_subsidy",
    ),
    Step(
        "return-visit",
        "return_visit",
        OFFICER,
        [
            ("satisfaction", "select", ("satisfied", "basically_satisfied", "unsatisfied")),
            ("note", "text", ()),
        ],
        law="law.aid_return_visit",
    ),
    Step("archive", "archive", OFFICER, []),
    Step("objection", "object", DESK, [("reason", "textarea", ())], law="law.aid_objection"),
    Step(
        "objection-decision",
        "objection_accept",
        ("supervisor", "admin"),
        [("outcome", "select", ("accept", "reject")), ("reason", "textarea", ())],
        path="objection/decision",
        law="law.aid_objection",
    ),
    Step(
        "lawyer-decline",
        "lawyer_decline",
        LAWYER,
        [("reason", "textarea", ())],
        more=True,
        law="law.aid_decline",
    ),  # fmt: skip
    Step("withdraw", "withdraw", DESK, [("reason", "textarea", ())], more=True),
    Step(
        "terminate",
        "terminate",
        OFFICER,
        [("cause", "select", TERMINATION_CAUSES), ("reason", "textarea", ())],
        more=True,
        law="law.aid_terminate",
    ),
    Step(
        "receipt",
        "correct_receipt",
        DESK,
        [("received_at", "datetime", ()), ("reason", "textarea", ())],
        more=True,
        law="law.aid_receipt",
    ),
]

MEDIATION_STEPS: list[Step] = [
    Step(
        "parties",
        "add_party",
        REGISTER,
        [
            ("parties.0.side", "select", ("respondent", "applicant")),
            ("parties.0.name", "text", ()),
            ("parties.0.phone", "text", ()),
            ("parties.0.address", "text", ()),
        ],
    ),
    Step(
        "consents",  # 人民调解法 Art 17, 23: every party agrees; one refusal ends the case
        "consent",
        WORK,
        [
            ("party_id", "pending_party", ()),
            ("decision", "select", ("given", "refused")),
            ("method", "select", ("written", "oral", "signed_form")),
            ("reason", "text", ()),
        ],
        law="law.med_consent",
    ),
    Step(
        "mediator",
        "assign_mediator",
        WORK,
        [("staff_id", "mediator", ()), ("chosen_by", "select", ("committee", "parties"))],
        law="law.med_mediator",
    ),
    Step(
        "sessions",
        "schedule_session",
        WORK,
        [
            ("scheduled_at", "datetime", ()),
            ("location", "text", ()),
            ("public", "bool", ("no", "yes")),
            ("invited", "lines", ()),
        ],
        law="law.med_session",
    ),
    Step(
        "record",
        "record_session",
        WORK,
        [("session_id", "session", ()), ("present_party_ids", "party_ids", ()), ("notes", "textarea", ())],
        path="sessions/{session_id}/record",
        law="law.med_record",
    ),
    Step(
        "agreement",  # Art 29: the contents of a written agreement
        "draft_agreement",
        WORK,
        [
            ("facts", "textarea", ()),
            ("disputed_points", "textarea", ()),
            ("responsibilities", "textarea", ()),
            ("terms", "textarea", ()),
            ("performance_manner", "text", ()),
            ("performance_deadline", "date", ()),
        ],
        law="law.med_agreement",
    ),
    Step(
        "oral-agreement",
        "oral_agreement",
        WORK,
        [("terms", "textarea", ()), ("performance_manner", "text", ()), ("performance_deadline", "date", ())],
        law="law.med_oral",
    ),
    Step(
        "signatures",
        "sign_agreement",
        WORK,
        [
            ("signer", "select", ("party", "mediator", "committee_seal")),
            ("party_id", "party", ()),
            ("method", "select", ("signature", "seal", "thumbprint")),
        ],
        path="agreement/signatures",
        law="law.med_sign",
    ),
    Step(
        "judicial-confirmation",
        "confirmation_applied",
        WORK,
        [("applied_on", "date", ()), ("court", "text", ()), ("applying_party_ids", "party_ids", ())],
        law="law.med_confirmation",
    ),
    Step(
        "follow-up",
        "follow_up",
        ("mediator", "supervisor", "admin"),
        [
            ("kind", "fixed", ("performance",)),
            ("performance", "select", ("full", "partial", "none")),
            ("note", "text", ()),
        ],
        path="follow-ups",
        law="law.med_follow_up",
    ),
    Step(
        "return-visit",
        "return_visit",
        ("mediator", "supervisor", "admin"),
        [("kind", "fixed", ("return_visit",)), ("satisfied", "bool", ("yes", "no")), ("note", "text", ())],
        path="follow-ups",
    ),
    Step("failure", "fail", WORK, [("reason", "textarea", ())], law="law.med_failure"),
    Step(
        "extensions",
        "extend",
        WORK,
        [("days", "number", ()), ("consenting_party_ids", "party_ids", ()), ("reason", "text", ())],
        more=True,
    ),
    Step(
        "risk",
        "report_risk",
        WORK,
        [
            ("risk_kind", "select", ("violence", "criminal", "self_harm", "mass_incident")),
            ("description", "textarea", ()),
        ],  # fmt: skip
        more=True,
        law="law.med_risk",
    ),
    Step(
        "registration",  # Art 33's exclusions depend on the dispute type: correct it, with the facts
        "update_registration",
        WORK,
        [
            ("dispute_type", "select", DISPUTE_TYPES),
            ("summary", "textarea", ()),
            ("claims", "textarea", ()),
        ],
        more=True,
        method="PATCH",
    ),
    Step(
        "recusals",
        "recuse",
        WORK,
        [
            ("staff_id", "mediator", ()),
            ("relation", "text", ()),
            ("raised_by", "select", ("mediator", "party", "committee")),
        ],
        more=True,
        law="law.med_recusal",
    ),
    Step(
        "receipt",
        "correct_receipt",
        REGISTER,
        [("received_at", "datetime", ()), ("reason", "textarea", ())],
        more=True,
    ),
]
STEPS_BY_SERVICE: dict[str, list[Step]] = {"aid": AID_STEPS, "mediation": MEDIATION_STEPS}


def find_step(service: str, key: str) -> Step | None:
    return next((s for s in STEPS_BY_SERVICE.get(service, []) if s.key == key), None)
