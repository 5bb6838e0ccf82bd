"""libs.common.workflow (one transition guard, one 409 body for aid and mediation) and
libs.common.bilingual (one bilingual text instead of split strings)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from libs.common.bilingual import Text, join, zh_of
from libs.common.problems import Problem, translate_validation_error
from libs.common.workflow import CODE, IllegalTransition, Refusal, StateMachine
from services.aid import domain as aid
from services.mediation import domain as med

DOOR = StateMachine.from_sources(
    {
        "open": (["closed"], "opened"),
        "close": (["opened"], "closed"),
        "knock": (["closed", "opened"], None),
        "sweep": (["closed", "opened"], None),
    },
    {"opened": "开着", "closed": "关着"},
    hidden=frozenset({"sweep"}),
    guards={"open": lambda door: None if door.key else Refusal(Text("没有钥匙", "no key"), ("knock",))},
)


def test_table_answers_next_state_and_offers_only_what_a_person_may_do():
    assert DOOR.next_state("closed", "open") == "opened"
    assert DOOR.next_state("opened", "knock") == "opened"  # None: stays where it is
    assert DOOR.allowed_actions("opened") == ["close", "knock"]  # sweep is the system's
    with pytest.raises(IllegalTransition) as exc:
        DOOR.next_state("opened", "open")
    assert (exc.value.state, exc.value.action, exc.value.allowed) == ("opened", "open", ["close", "knock"])


def test_one_409_body_from_the_table_and_from_a_guard_hook():
    with pytest.raises(Problem) as exc:
        DOOR.ensure_allowed("opened", "open")
    p = exc.value
    assert p.status == 409 and "开着" in p.detail and "'opened'" in p.detail_en
    assert p.extra == {
        "code": CODE,
        "state": "opened",
        "action": "open",
        "allowed_actions": ["close", "knock"],
    }
    with pytest.raises(Problem) as exc:
        DOOR.ensure_allowed("closed", "open", SimpleNamespace(key=None))
    p = exc.value
    assert (p.detail, p.detail_en) == ("没有钥匙", "no key")
    assert p.extra == {"code": CODE, "state": "closed", "action": "open", "allowed_actions": ["knock"]}
    assert DOOR.ensure_allowed("closed", "open", SimpleNamespace(key="k")) == "opened"


def test_aid_and_mediation_answer_the_same_shape():
    aid_case = SimpleNamespace(status="received")
    med_case = SimpleNamespace(status="closed", mediator_staff_id=None)
    bodies = []
    for machine, case, action in ((aid.MACHINE, aid_case, "close"), (med.MACHINE, med_case, "fail")):
        with pytest.raises(Problem) as exc:
            machine.ensure_allowed(case.status, action, case)
        bodies.append(exc.value.extra)
    assert {frozenset(b) for b in bodies} == {frozenset({"code", "state", "action", "allowed_actions"})}
    assert bodies[0]["allowed_actions"] == aid.allowed_actions("received")
    assert bodies[1]["allowed_actions"] == ["return_visit"]


def test_scheduling_a_session_waits_for_a_mediator():
    case = SimpleNamespace(status="accepted", mediator_staff_id=None)
    with pytest.raises(Problem) as exc:
        med.MACHINE.ensure_allowed(case.status, "schedule_session", case)
    assert exc.value.extra["allowed_actions"] == ["assign_mediator"]
    case.mediator_staff_id = "m1"
    assert med.MACHINE.ensure_allowed(case.status, "schedule_session", case) == "mediating"


def test_bilingual_text_builds_and_reads_the_joined_form_in_one_place():
    t = Text("至少 {n} 项", "at least {n}").format(n=2)
    assert (t.zh, t.en) == ("至少 2 项", "at least 2")
    assert str(t) == join("至少 2 项", "at least 2") == "至少 2 项 | at least 2"
    assert Text.parse(str(t)) == t and zh_of(str(t)) == "至少 2 项"
    assert Text.parse("只有中文") == Text("只有中文", "只有中文")
    assert t.pick("en") == "at least 2" and t.pick("zh") == "至少 2 项"
    zh, en = t
    assert (zh, en) == (t.zh, t.en)


def test_validator_errors_keep_their_two_languages():
    err = {
        "type": "value_error",
        "loc": ("body", "phone"),
        "ctx": {"error": Text("号码不对", "bad number").error()},
    }
    assert translate_validation_error(err) == {
        "field": "phone",
        "code": "invalid",
        "message": "号码不对",
        "message_en": "bad number",
    }


def test_aid_rules_on_the_case_answer_the_same_409():
    closed = SimpleNamespace(status="closed", closure={"outcome": "won"}, subsidy=None, return_visit=None)
    with pytest.raises(Problem) as exc:
        aid.MACHINE.ensure_allowed("closed", "archive", closed)
    assert exc.value.extra == {
        "code": CODE,
        "state": "closed",
        "action": "archive",
        "allowed_actions": ["record_subsidy", "return_visit"],
        "missing": ["subsidy", "return_visit"],
    }
    closed.subsidy, closed.return_visit = {"amount": "1500"}, {"satisfaction": "satisfied"}
    assert aid.MACHINE.ensure_allowed("closed", "archive", closed) == "archived"
    objected = SimpleNamespace(status="refused", objection={"against": "refusal"})
    with pytest.raises(Problem) as exc:
        aid.MACHINE.ensure_allowed("refused", "object", objected)
    assert exc.value.extra["allowed_actions"] == [] and "异议" in exc.value.detail
    objected.objection = {"against": "termination"}  # an earlier objection to another decision
    assert aid.MACHINE.ensure_allowed("refused", "object", objected) == "objecting_refusal"


def test_console_shows_what_a_refused_case_step_allows():
    from services.console.service import BackendError
    from services.console.web import problem_ctx

    body = {"status": 409, "code": CODE, "detail": "不能", "detail_en": "no", "allowed_actions": ["grant"]}
    ctx = problem_ctx(BackendError(409, body), "en")
    assert ctx["error"] == "no" and ctx["allowed"] == ["grant"]
    assert problem_ctx(BackendError(409, {"allowed": ["reopen"]}), "zh")["allowed"] == ["reopen"]
