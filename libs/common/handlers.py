"""A consumer's handlers, registered by payload model and handed the parsed payload.

    handlers = Handlers()
    handlers.on(dispatch.AssignedV1, on_assigned)   # async def on_assigned(session, event, data: AssignedV1)

`on` registers every type the model is the payload of (a family such as aid's case transitions at
once; a deprecated V1 model is registered beside its V2 with its own handler). The inbox looks a
handler up by type (`get`, as for a plain dict: `Handlers` is the `dict[str, Handler]` the inbox
takes); the one it gets parses `event.data` with the model before calling — so a consumer never
reads `event.data[...]`, and a payload that does not parse fails as `PayloadInvalid`, whose text
names the field (`payload_invalid: work_order_id: Field required`): that is the reason stored on
the dead letter (libs.common.inbox, libs.common.deadletters).

`unless(payload)` names the records of a type that are none of the service's business (dispatch
and the classification made at filing, which the `created` after it carries too): the inbox
asks the handler's `wants(event)` before it opens a transaction, so such a record costs a parse,
never an inbox row (#21).

A service that follows every event of its topics (intake folds each into the order's timeline)
gives a `fallback`: it gets every type without a handler of its own except the `ignored` ones,
with the payload parsed by the registry's model (None for a type this build does not know yet —
a newer producer's — which the fallback may still record by its envelope).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events.envelope import Envelope
from libs.common.events.payload import EventPayload
from libs.common.events.registry import model_for

P = TypeVar("P", bound=EventPayload)
Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]  # what the inbox calls
Fallback = Callable[[AsyncSession, Envelope, EventPayload | None], Awaitable[None]]


class PayloadInvalid(ValueError):
    """The event's data is not a valid payload of its type; the message names each field."""

    def __init__(self, event_type: str, exc: ValidationError) -> None:
        self.event_type = event_type
        self.errors = exc.errors(include_url=False)
        super().__init__(describe(exc))


def describe(exc: ValidationError) -> str:
    """`payload_invalid: work_order_id: Field required; county_code: …` (at most five fields)."""
    parts = [
        f"{'.'.join(str(p) for p in e['loc']) or '(payload)'}: {e['msg']}"
        for e in exc.errors(include_url=False)
    ]
    more = f"; … {len(parts) - 5} more" if len(parts) > 5 else ""
    return "payload_invalid: " + "; ".join(parts[:5]) + more


def parse(model: type[P], event: Envelope) -> P:
    try:
        return model.model_validate(event.data)
    except ValidationError as exc:
        raise PayloadInvalid(event.type, exc) from None


class Handlers(dict[str, Handler]):
    def __init__(self, *, fallback: Fallback | None = None, ignored: Iterable[str] = ()) -> None:
        super().__init__()
        self._fallback = _fallback_handler(fallback) if fallback else None
        self._ignored = frozenset(ignored)

    def on(
        self,
        model: type[P],
        handler: Callable[[AsyncSession, Envelope, P], Awaitable[None]],
        *,
        types: Iterable[str] | None = None,
        unless: Callable[[P], bool] | None = None,
    ) -> Handlers:
        """Handle every type of `model` (or only `types`, each one of the model's); `unless`:
        skip the records whose payload it is true of, before any database write."""
        chosen = tuple(types) if types is not None else model.event_types()
        for event_type in chosen:
            model.type_for(event_type)  # refuses a type that is not the model's
            if event_type in self:
                raise ValueError(f"{event_type} has a handler already")
            self[event_type] = TypedHandler(model, handler, unless)
        return self

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        # "*" never answers: the inbox asks `get(type) or get("*")`, and an ignored type must stay
        # unhandled (it never even reaches the inbox table).
        if key in self:
            return self[key]
        if key == "*" or key in self._ignored or self._fallback is None:
            return default
        return self._fallback


class TypedHandler:
    """What the inbox calls for one type: parses the payload, then calls the service's handler."""

    def __init__(
        self,
        model: type[P],
        handler: Callable[[AsyncSession, Envelope, P], Awaitable[None]],
        unless: Callable[[P], bool] | None = None,
    ) -> None:
        self.model, self.handler, self.unless = model, handler, unless
        self.__qualname__ = getattr(handler, "__qualname__", "handler")

    async def __call__(self, session: AsyncSession, event: Envelope) -> None:
        await self.handler(session, event, parse(self.model, event))

    def wants(self, event: Envelope) -> bool:
        """False for a record `unless` rules out. One whose payload does not parse is wanted: the
        handler's parse fails the same way and the dead letter names the field."""
        if self.unless is None:
            return True
        try:
            return not self.unless(parse(self.model, event))
        except PayloadInvalid:
            return True


def _fallback_handler(fallback: Fallback) -> Handler:
    async def handle(session: AsyncSession, event: Envelope) -> None:
        model = model_for(event.type)
        await fallback(session, event, parse(model, event) if model else None)

    return handle
