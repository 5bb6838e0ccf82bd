"""One case-workflow kit for the services whose cases move through a state machine (aid, mediation).

- `StateMachine`: the declarative table, action → {from state: to state}, with guard hooks for
  the rules that need the case itself (not only its state), and the actions never offered to a
  person (a sweeper's steps).
- `ensure_allowed`: the one 409 every refused step answers with. Its body (RFC 9457, documented
  in the services' READMEs and OpenAPI):

      {"status": 409, "code": "transition_not_allowed", "state": "<current state>",
       "action": "<the step asked for>", "allowed_actions": ["<what may happen now>", …],
       "detail": "中文", "detail_en": "English"}

  A rule beyond the table (e.g. no agreement before a session was held) answers the same shape,
  its `allowed_actions` naming the step that would unblock it.
- `run_action`: the route helper — lock the case, apply the step (which guards, changes and
  enqueues its event through the outbox) in one transaction, answer from the committed case.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.bilingual import Text
from libs.common.problems import Problem

CODE = "transition_not_allowed"

C = TypeVar("C")
R = TypeVar("R")

# A rule that needs the case: None when it holds, else why not and what would unblock it.
Guard = Callable[[Any], "Refusal | None"]


@dataclass(frozen=True)
class Refusal:
    text: Text
    allowed_actions: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)  # more members of the 409 (e.g. missing)


class IllegalTransition(Exception):
    """`action` is not in the table for `state`; `allowed` is what is (offered actions only)."""

    def __init__(self, state: str, action: str, allowed: list[str]) -> None:
        super().__init__(f"{action} not allowed from {state}")
        self.state, self.action, self.allowed = state, action, allowed


@dataclass(frozen=True)
class StateMachine:
    edges: Mapping[str, Mapping[str, str]]  # action -> {from state: to state}
    state_names: Mapping[str, str]  # state -> its name in Chinese (for the 409's words)
    hidden: frozenset[str] = frozenset()  # actions of the system, never offered to a person
    guards: Mapping[str, Guard] = field(default_factory=dict)  # action -> rule on the case

    @classmethod
    def from_sources(
        cls,
        table: Mapping[str, tuple[Iterable[str], str | None]],
        state_names: Mapping[str, str],
        **kw: Any,
    ) -> StateMachine:
        """From action -> (allowed from-states, to-state or None for "stays where it is")."""
        edges = {a: {s: target or s for s in sources} for a, (sources, target) in table.items()}
        return cls(edges=edges, state_names=state_names, **kw)

    def allowed_actions(self, state: str) -> list[str]:
        return sorted(a for a, e in self.edges.items() if state in e and a not in self.hidden)

    def next_state(self, state: str, action: str) -> str:
        edges = self.edges.get(action, {})
        if state not in edges:
            raise IllegalTransition(state, action, self.allowed_actions(state))
        return edges[state]

    def ensure_allowed(self, state: str, action: str, case: Any = None) -> str:
        """The state after `action`, or the one 409. With `case`, the action's guard hook runs too."""
        try:
            after = self.next_state(state, action)
        except IllegalTransition as exc:
            name = self.state_names.get(state, state)
            words = Text(
                f"案件当前状态为「{name}」，不能执行「{action}」",
                f"action '{action}' is not allowed while the case is '{state}'",
            )
            raise refused(state, action, words, exc.allowed) from exc
        hook = self.guards.get(action)
        refusal = hook(case) if hook is not None and case is not None else None
        if refusal is not None:
            raise refused(state, action, refusal.text, refusal.allowed_actions, **refusal.extra)
        return after


def refused(state: str, action: str, why: Text, allowed: Iterable[str], **extra: Any) -> Problem:
    """The 409 of a step that may not happen now (a rule beyond the table raises it directly)."""
    return Problem(
        409,
        why.zh,
        why.en,
        code=CODE,
        state=state,
        action=action,
        allowed_actions=list(allowed),
        **extra,
    )


async def run_action(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    load: Callable[[AsyncSession], Awaitable[C]],
    apply: Callable[[AsyncSession, C], Awaitable[Any]],
    answer: Callable[[AsyncSession, C], Awaitable[R]],
    after: Callable[[], None] | None = None,
) -> R:
    """One step in one transaction. `load` locks the case (SELECT … FOR UPDATE: two clerks acting
    at once are serialised, so the guard sees the true state); `apply` guards, changes and
    enqueues the event; `answer` reads the committed case; `after` runs once it is committed
    (e.g. wake a delivery loop)."""
    async with sessionmaker() as session:
        async with session.begin():
            case = await load(session)
            await apply(session, case)
        out = await answer(session, case)
    if after is not None:
        after()
    return out


OPENAPI_409 = {
    "description": "the step is not allowed in the case's current state (or a rule blocks it); "
    "`allowed_actions` lists what may happen now",
    "content": {
        "application/problem+json": {
            "example": {
                "type": "about:blank",
                "title": "与当前状态冲突",
                "title_en": "Conflict",
                "status": 409,
                "detail": "案件当前状态为「已结案」，不能执行「assign_mediator」",
                "detail_en": "action 'assign_mediator' is not allowed while the case is 'closed'",
                "code": CODE,
                "state": "closed",
                "action": "assign_mediator",
                "allowed_actions": ["return_visit"],
            }
        }
    },
}
