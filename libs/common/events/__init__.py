"""Event envelope (CloudEvents 1.0, Kafka binary mode), topic names and the versioned
payload contracts, one module per producing service.

Typed end to end (issue #18). Each payload model (`payload.EventPayload`) declares its type
(`TYPE`, or `TYPES` for a family sharing one shape), `SOURCE` and `TOPIC` as class variables — not
fields, so the JSON is unchanged. `registry` is those models; the catalogue and AsyncAPI come from
it. A producer calls `libs.common.publisher.Publisher(outbox, service).publish(session, payload,
subject=…, key=…)`; a consumer registers `libs.common.handlers.Handlers().on(Model, handler)` and
its handler gets `(session, event, data: Model)` — a payload that does not parse is dead-lettered
as `payload_invalid: <field>: <why>`.

Versions. A published payload (`…V1`) is never edited: a change of a field's meaning or a new
required field is a new model `…V2` and a new type string `….v2`. The unsuffixed constant
(`identity.TOKEN_REVOKED`, `aid.GRANTED` …) always names the version producers emit today; the
older one stays as `…_V1`, documented as deprecated, and every consumer accepts both for as long
as old records may still sit in an outbox or on the broker (topics keep 7 days; outboxes are
republished after a broker reset). Optional fields may be added to a published version.

Field names mean one thing in every event (issue #17):

* `*_id` is a machine identifier issued by a lawline service — a UUID in canonical text form
  (`account_id`, `staff_id`, `case_id`, `work_order_id`, `actor_staff_id` …), never a login name
  or a display name. The exceptions are identifiers that are not UUIDs by their nature and say so
  where they are declared: `key_id` (12 hex digits of an API key), `jti` (32 hex digits of an
  access token), `snapshot_id`, and the V1 field `WorkOrderAnsweredOnCallV1.operator_id` (the
  hotline seat code the telephony system sends).
* `*_username` (and `username`) is a login name: identity's account username, the `sub` of a
  staff access token (e.g. `counter_140430`).
* `*_name` is a display name of a person, a place or a body (never a citizen's name in an event
  other than the ones that route an order to its handler).
* Who did something is a triple, `<role>_kind` (`staff` | `api_key` | `system`),
  `<role>_staff_id` (UUID, null when the actor has no staff record) and `<role>_username` (null
  for a system or API-key actor), plus `<role>_key_id` for an API key
  (AidCaseTransitionV2.actor_*). A bare `*_by` in a V1 payload is free text whose meaning the
  field's comment states (`created_by`/`revoked_by` in identity: a username; intake's `by`: `auto`
  or a username — except classified v1, whose `by` was a kind: v2 says `method` and
  `operator_username`; dispatch's v1 `requested_by`/`decided_by`: a staff id, else a username — v2 says
  `handler_staff_id`/`handler_username` and `supervisor_staff_id`/`supervisor_username`); new
  payloads do not add bare `*_by` fields.
* Places: `county_code` is the 6-digit county-level region code of the order's (case's)
  jurisdiction, `region_code` the full code of a place (9 or 12 digits), and `region` (identity
  events only) a jurisdiction as a region-code prefix (2 province, 4 city, 6 county, 9 township).
* Times are `*_at` (UTC date-time) or `at`; calendar dates are `due`, `due_date`, `*_on`.
"""
