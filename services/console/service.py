"""The console's ONLY door to the other services: thin httpx calls with the user's token.

Every backend path the console uses is in this module, so when a service's API changes
only this file changes. Two outcomes besides success:
- `Unavailable`: the endpoint does not exist (yet) on that service, or the service is down.
  Screens render a clear "not available" state instead of failing.
- `BackendError`: the service answered with a problem (4xx/5xx) — shown to the user with
  its Chinese/English message and field errors.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx

SERVICES = ("intake", "dispatch", "aid", "mediation", "identity")
# Optional order fields that an older intake may not know yet (it forbids unknown fields).
OPTIONAL_ORDER_FIELDS = ("domain", "special_groups", "urgency", "hotline", "parent_id", "urge_of")


class Unavailable(Exception):
    def __init__(self, service: str, path: str, why: str):
        super().__init__(f"{service} {path}: {why}")
        self.service, self.path, self.why = service, path, why


@dataclass
class BackendError(Exception):
    status: int
    body: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str) -> str:
        b = self.body
        zh = b.get("detail") or b.get("message") or b.get("title") or f"HTTP {self.status}"
        en = b.get("detail_en") or b.get("message_en") or b.get("title_en") or zh
        return en if lang == "en" else zh

    def field_errors(self, lang: str) -> list[tuple[str, str]]:
        out = []
        for e in self.body.get("errors") or []:
            msg = e.get("message_en") if lang == "en" and e.get("message_en") else e.get("message", "")
            out.append((str(e.get("field", "")), msg))
        return out


def _missing_route(r: httpx.Response) -> bool:
    """A route that does not exist answers 404 'Not Found' / 405 / 501 — unlike '未找到' for an object."""
    if r.status_code in (405, 501):
        return True
    if r.status_code != 404:
        return False
    try:
        return r.json().get("detail") == "Not Found"
    except ValueError:
        return True


class Backends:
    """One pooled httpx client per service; each call carries the caller's bearer token."""

    def __init__(self, urls: dict[str, str], timeout: float = 8.0, transport: Any = None):
        self.urls = urls
        self._clients = {
            name: httpx.AsyncClient(base_url=url, timeout=timeout, transport=transport)
            for name, url in urls.items()
        }

    async def health(self) -> dict[str, str]:
        async def one(name: str, client: httpx.AsyncClient) -> tuple[str, str]:
            try:
                r = await client.get("/healthz", timeout=2)
                return name, "ok" if r.status_code == 200 else f"status {r.status_code}"
            except httpx.HTTPError as exc:
                return name, f"unreachable: {type(exc).__name__}"

        return dict(await asyncio.gather(*(one(n, c) for n, c in self._clients.items())))

    async def aclose(self) -> None:
        for c in self._clients.values():
            await c.aclose()

    async def call(
        self, service: str, method: str, path: str, token: str | None = None, **kw: Any
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            r = await self._clients[service].request(method, path, headers=headers, **kw)
        except httpx.HTTPError as exc:
            raise Unavailable(service, path, f"unreachable: {type(exc).__name__}") from exc
        if _missing_route(r):
            raise Unavailable(service, path, f"no such endpoint ({r.status_code})")
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = {"detail": r.text[:300]}
            body = body if isinstance(body, dict) else {"detail": str(body)}
            if r.headers.get("Retry-After"):  # a 429's wait, for a page to say how long
                body.setdefault("retry_after", r.headers["Retry-After"])
            raise BackendError(r.status_code, body)
        return r

    async def json(self, service: str, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        r = await self.call(service, method, path, token, **kw)
        return r.json() if r.content else {}

    async def pages(
        self, service: str, path: str, token: str, params: dict[str, Any], page_size: int = 200
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every page of a list endpoint: a bare list, or {items, next_cursor} keyset pages."""
        params = {k: v for k, v in params.items() if v not in (None, "")}
        params.setdefault("limit", page_size)
        seen_cursors: set[str] = set()
        while True:
            body = await self.json(service, "GET", path, token, params=params)
            if isinstance(body, list):
                yield body
                return
            items = body.get("items") or body.get("data") or []
            yield items
            cursor = body.get("next_cursor") or body.get("cursor")
            if not cursor or not items or cursor in seen_cursors:
                return
            seen_cursors.add(cursor)
            params = dict(params, cursor=cursor)

    async def all(self, service: str, path: str, token: str, params: dict[str, Any]) -> list[dict]:
        out: list[dict] = []
        async for page in self.pages(service, path, token, params):
            out.extend(page)
        return out

    # ---- identity -------------------------------------------------------------------------------
    async def login(self, username: str, password: str) -> dict:
        return await self.json(
            "identity", "POST", "/v1/auth/login", json={"username": username, "password": password}
        )

    async def refresh(self, refresh_token: str) -> dict:
        return await self.json("identity", "POST", "/v1/auth/refresh", json={"refresh_token": refresh_token})

    async def logout(self, token: str, refresh_token: str | None) -> None:
        await self.call("identity", "POST", "/v1/auth/logout", token, json={"refresh_token": refresh_token})

    async def change_password(self, username: str, current: str, new: str) -> dict:
        """The person's own change (current or temporary password); answers with a new session."""
        body = {"username": username, "current_password": current, "new_password": new}
        return await self.json("identity", "POST", "/v1/auth/password", json=body)

    # ---- identity: account administration (admins, inside their jurisdiction) ------------------
    async def accounts(self, token: str, **filters: Any) -> dict:
        body = await self.json("identity", "GET", "/v1/accounts", token, params=_clean(filters))
        return body if isinstance(body, dict) else {"items": body, "next_cursor": None}

    async def account(self, token: str, account_id: str) -> dict:
        return await self.json("identity", "GET", f"/v1/accounts/{account_id}", token)

    async def create_account(self, token: str, body: dict) -> dict:
        return await self.json("identity", "POST", "/v1/accounts", token, json=_clean(body))

    async def update_account(self, token: str, account_id: str, body: dict) -> dict:
        return await self.json("identity", "PATCH", f"/v1/accounts/{account_id}", token, json=body)

    async def account_action(
        self, token: str, account_id: str, action: str, body: dict | None = None
    ) -> dict:
        if action not in ("disable", "enable", "reset-password"):  # never another path of identity's
            raise ValueError(f"unknown account action {action!r}")
        return await self.json("identity", "POST", f"/v1/accounts/{account_id}/{action}", token, json=body)

    async def link_staff(self, token: str, account_id: str, staff_id: str) -> dict:
        body = {"staff_id": staff_id}
        return await self.json("identity", "PUT", f"/v1/accounts/{account_id}/staff", token, json=body)

    async def unlink_staff(self, token: str, account_id: str) -> dict:
        return await self.json("identity", "DELETE", f"/v1/accounts/{account_id}/staff", token)

    # ---- intake ---------------------------------------------------------------------------------
    async def create_order(self, token: str, payload: dict, idem_key: str) -> tuple[dict, list[str]]:
        """Create an order; if this intake does not know an optional field yet, retry without it.

        Returns the created order and the optional fields that had to be dropped (shown to the user).
        """
        dropped: list[str] = []
        body = dict(payload)
        for _ in range(2):
            try:
                r = await self.json(
                    "intake",
                    "POST",
                    "/v1/work-orders",
                    token,
                    json=body,
                    headers={"Idempotency-Key": idem_key},
                )
                return r, dropped
            except BackendError as exc:
                # Only a field this intake does not know ("extra_forbidden"): a real error in a
                # known one (an answer too long for hotline.answer_summary) is the user's to fix —
                # dropping the block silently dispatched an order answered on the call, its
                # answer, call id and 当场办结 lost.
                unknown = [
                    str(e.get("field", ""))
                    for e in exc.body.get("errors") or []
                    if e.get("code") == "extra_forbidden"
                    and str(e.get("field", "")).split(".")[0] in OPTIONAL_ORDER_FIELDS
                    and str(e.get("field", "")).split(".")[0] in body
                ]
                if exc.status != 422 or not unknown:
                    raise
                for f in unknown:
                    body.pop(f.split(".")[0], None)
                    dropped.append(f.split(".")[0])
                idem_key = idem_key + "-compat"  # a different body needs a different key
        raise BackendError(422, {"detail": "无法创建工单", "detail_en": "could not create the order"})

    async def order(self, token: str, order_id: str) -> dict:
        return await self.json("intake", "GET", f"/v1/work-orders/{order_id}", token)

    async def order_sms(self, token: str, order_id: str) -> list[dict]:
        """The SMS the order sent the citizen (number masked, template, status)."""
        return await self.json("intake", "GET", f"/v1/work-orders/{order_id}/sms", token)

    async def reconciliation(self, token: str) -> dict:
        """Orders dispatch has not acknowledged yet, and intake's automatic re-announcements."""
        return await self.json("intake", "GET", "/v1/pipeline/reconciliation", token)

    async def order_stats(self, token: str, first: date, last: date, region: str | None = None) -> dict:
        """Intake's figures for China days first..last (inclusive), scoped to the token's jurisdiction."""
        params = _clean({"date_from": first.isoformat(), "date_to": last.isoformat(), "region": region})
        return await self.json("intake", "GET", "/v1/stats/orders", token, params=params)

    def orders(self, token: str, **filters: Any) -> AsyncIterator[list[dict]]:
        return self.pages("intake", "/v1/work-orders", token, _clean(filters))

    async def caller_orders(self, token: str, phone: str, *, history: bool = False) -> list[dict]:
        # POST, not GET ?phone=: intake keeps personal data out of URLs (and access logs).
        req = {"phone": phone, **({"history": True} if history else {})}
        body = await self.json("intake", "POST", "/v1/caller-lookup", token, json=req)
        return body if isinstance(body, list) else body.get("items", [])

    async def classify(self, token: str, description: str) -> dict:
        """Intake's own rules (the ones filing applies), shaped for the suggestion box."""
        raw = await self.json("intake", "POST", "/v1/classify", token, json={"description": description})
        evidence = raw.get("evidence") or {}
        words = [w for k in ("service_type", "domain") for w in evidence.get(k, [])]
        return {**raw, "confidence": raw.get("service_confidence"), "evidence": words}

    async def tasks(self, token: str, order_id: str, *, status: str | None = "open") -> list[dict]:
        params = _clean({"work_order_id": order_id, "status": status, "limit": 200})
        return await self.json("intake", "GET", "/v1/tasks", token, params=params)

    async def record_callback(self, token: str, order_id: str, *, kind: str, outcome: str, note: str) -> dict:
        """A callback / return visit is an attempt on the order's open task of that kind (回拨/回访)."""
        open_tasks = [t for t in await self.tasks(token, order_id) if t.get("kind") == kind]
        if not open_tasks:
            raise BackendError(
                409,
                {
                    "detail": "该工单没有待办的回拨/回访任务",
                    "detail_en": "this order has no open callback / return-visit task of that kind",
                },
            )
        body = {"outcome": outcome, "note": note}
        return await self.json(
            "intake", "POST", f"/v1/tasks/{open_tasks[0]['id']}/attempts", token, json=body
        )

    async def rate(self, token: str, order_id: str, *, score: int, comment: str) -> dict:
        body = {"score": score, "comment": comment or None}
        return await self.json("intake", "POST", f"/v1/work-orders/{order_id}/rating", token, json=body)

    async def close_order(self, token: str, order_id: str, *, summary: str) -> dict:
        body = {"result_summary": summary}
        return await self.json("intake", "POST", f"/v1/work-orders/{order_id}/close", token, json=body)

    async def merge_order(self, token: str, order_id: str, *, into: str, reason: str) -> dict:
        """并单: `order_id` becomes part of `into` (the order kept, which is urged)."""
        body = {"into": into, "reason": reason}
        return await self.json("intake", "POST", f"/v1/work-orders/{order_id}/merge", token, json=body)

    async def cancel_order(self, token: str, order_id: str, *, reason: str) -> dict:
        """撤销 an order filed by mistake, before anyone took it on."""
        body = {"reason": reason}
        return await self.json("intake", "POST", f"/v1/work-orders/{order_id}/cancel", token, json=body)

    async def update_order(self, token: str, order_id: str, body: dict) -> dict:
        """Correct an open order's facts (name, phone, ID number, place, description) with a reason."""
        return await self.json("intake", "PATCH", f"/v1/work-orders/{order_id}", token, json=body)

    async def reclassify(self, token: str, order_id: str, body: dict) -> dict:
        """Type, domain, special groups or urgency changed, with a reason (dispatch re-routes)."""
        return await self.json(
            "intake", "PUT", f"/v1/work-orders/{order_id}/classification", token, json=body
        )

    async def county_transfer(self, token: str, order_id: str, *, region_code: str, reason: str) -> dict:
        body = {"region_code": region_code, "reason": reason}
        return await self.json(
            "intake", "POST", f"/v1/work-orders/{order_id}/county-transfer", token, json=body
        )

    # ---- intake: the citizen pages (no login) ---------------------------------------------------
    # The console calls for the citizen, so intake sees the console's address: the citizen's goes
    # in X-Forwarded-For, which intake believes from the console only (uvicorn's
    # --forwarded-allow-ips), and its limits per IP count each citizen, not all of them as one.
    async def public_request(self, payload: dict, idem_key: str, client_ip: str) -> dict:
        headers = {"Idempotency-Key": idem_key, **_forwarded(client_ip)}
        return await self.json("intake", "POST", "/v1/public/requests", json=payload, headers=headers)

    async def track(self, number: str, phone_suffix: str, client_ip: str) -> dict:
        path = f"/v1/track/{quote(number, safe='')}"
        params = {"phone_suffix": phone_suffix}
        return await self.json("intake", "GET", path, params=params, headers=_forwarded(client_ip))

    async def rate_tracked(
        self, number: str, phone_suffix: str, *, score: int, comment: str, client_ip: str
    ) -> dict:
        path = f"/v1/track/{quote(number, safe='')}/rating"
        return await self.json(
            "intake",
            "POST",
            path,
            params={"phone_suffix": phone_suffix},
            json={"score": score, "comment": comment or None},
            headers=_forwarded(client_ip),
        )

    # ---- dispatch -------------------------------------------------------------------------------
    async def inbox(self, token: str, staff_id: str) -> list[dict]:
        return await self.json("dispatch", "GET", "/v1/inbox", token, params={"staff_id": staff_id})

    def inbox_stream_request(self, token: str, staff_id: str) -> tuple[httpx.AsyncClient, httpx.Request]:
        client = self._clients["dispatch"]
        req = client.build_request(
            "GET",
            "/v1/inbox/stream",
            params={"staff_id": staff_id, "access_token": token},
            headers={"Accept": "text/event-stream", "Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(10, read=None),
        )
        return client, req

    async def respond(
        self, token: str, assignment_id: str, action: str, *, reason: str | None = None, note: str = ""
    ) -> dict:
        if action not in ("accept", "reject", "return"):
            raise ValueError(f"unknown assignment response {action!r}")
        if action == "accept":
            body = None
        elif action == "reject":  # a coded reason; the next candidate gets the offer
            body = {"reason_code": reason or "out_of_scope", "note": note}
        else:  # 退单 of an accepted order: a written reason
            body = {"reason": note or reason or ""}
        return await self.json(
            "dispatch", "POST", f"/v1/assignments/{assignment_id}/{action}", token, json=body
        )

    async def assignments(self, token: str, order_id: str) -> list[dict]:
        return await self.json(
            "dispatch", "GET", "/v1/assignments", token, params={"work_order_id": order_id}
        )

    async def decision(self, token: str, order_id: str) -> dict:
        return await self.json("dispatch", "GET", f"/v1/work-orders/{order_id}/decision", token)

    async def staff_search(self, token: str, q: str, limit: int = 20) -> list[dict]:
        """Active staff whose code starts with / name contains `q` (the link picker)."""
        params = _clean({"q": q.strip(), "active": "true", "limit": limit})
        return await self.json("dispatch", "GET", "/v1/staff", token, params=params)

    async def point_queue(self, token: str, point_id: str) -> dict:
        """A service point's members on duty (load, next duty) and its open offers and matters."""
        return await self.json("dispatch", "GET", f"/v1/service-points/{point_id}/queue", token)

    async def staff_member(self, token: str, staff_id: str) -> dict:
        """One person's dispatch record (roster, 签到/签退 times)."""
        return await self.json("dispatch", "GET", f"/v1/staff/{staff_id}", token)

    async def duty(self, token: str, staff_id: str, action: str) -> dict:
        if action not in ("sign-in", "sign-out"):
            raise ValueError(f"unknown duty action {action!r}")
        return await self.json("dispatch", "POST", f"/v1/staff/{staff_id}/{action}", token)

    async def overdue(self, token: str) -> list[dict]:
        """督办: dispatch groups overdue and at-risk orders per county / point; the screen wants rows."""
        groups = await self.json("dispatch", "GET", "/v1/supervision/overdue", token)
        rows = [o for g in groups for o in g.get("orders", [])]
        # Overdue before at-risk, then the earliest deadline first.
        return sorted(rows, key=lambda o: (o.get("state") != "overdue", o.get("due") or ""))

    async def queue(self, token: str) -> list[dict]:
        return await self.json("dispatch", "GET", "/v1/supervision/queue", token)

    async def transfer(self, token: str, order_id: str, *, to_staff_id: str, reason: str) -> dict:
        body = {"to_staff_id": to_staff_id, "reason": reason}
        return await self.json("dispatch", "POST", f"/v1/work-orders/{order_id}/transfer", token, json=body)

    async def reply_extensions(self, token: str, status: str | None = None) -> list[dict]:
        return await self.json(
            "dispatch", "GET", "/v1/reply-extensions", token, params=_clean({"status": status})
        )

    async def request_extension(self, token: str, order_id: str, *, reason: str) -> dict:
        body = {"reason": reason}
        return await self.json(
            "dispatch", "POST", f"/v1/work-orders/{order_id}/reply-extension", token, json=body
        )

    async def decide_extension(self, token: str, extension_id: str, *, approve: bool, reason: str) -> dict:
        path = f"/v1/reply-extensions/{extension_id}/{'approve' if approve else 'refuse'}"
        return await self.json("dispatch", "POST", path, token, json={"reason": reason})

    # ---- police liaison (mediation, 人民调解法 Art 25) ----------------------------------------------
    async def liaisons(self, token: str, status: str | None = None) -> list[dict]:
        params = _clean({"status": status, "limit": 200})
        return await self.json("mediation", "GET", "/v1/police-liaisons", token, params=params)

    async def acknowledge_liaison(
        self, token: str, liaison_id: str, *, police_unit: str, action_taken: str
    ) -> dict:
        body = {"police_unit": police_unit, "action_taken": action_taken}
        return await self.json(
            "mediation", "POST", f"/v1/police-liaisons/{liaison_id}/acknowledge", token, json=body
        )

    # ---- aid / mediation ------------------------------------------------------------------------
    async def case_pages(
        self, token: str, service: str, page_size: int = 500, **filters: Any
    ) -> AsyncIterator[list[dict]]:
        """Every case, newest first: the case services return bare lists paged by a keyset on
        opened_at (aid: before_opened_at + before_id; mediation: before)."""
        params = _clean({**filters, "limit": page_size})
        while True:
            page = await self.json(service, "GET", "/v1/cases", token, params=params)
            yield page
            if len(page) < page_size:
                return
            last = page[-1]
            if service == "aid":
                params = dict(params, before_opened_at=last["opened_at"], before_id=last["id"])
            else:
                params = dict(params, before=last["opened_at"])

    async def cases(self, token: str, service: str, **filters: Any) -> list[dict]:
        out: list[dict] = []
        async for page in self.case_pages(token, service, **filters):
            out.extend(page)
        return out

    async def orders_page(
        self, token: str, cursor: str | None = None, **filters: Any
    ) -> tuple[list[dict], str | None]:
        """One page of the order list and the cursor of the next one."""
        params = _clean({**filters, "cursor": cursor, "limit": 50})
        body = await self.json("intake", "GET", "/v1/work-orders", token, params=params)
        if isinstance(body, list):
            return body, None
        return body.get("items") or [], body.get("next_cursor")

    async def case(self, token: str, service: str, case_id: str) -> dict:
        return await self.json(service, "GET", f"/v1/cases/{case_id}", token)

    async def case_action(self, token: str, service: str, case_id: str, path: str, body: dict) -> dict:
        """`path` is the step's endpoint under the case, e.g. `decision` or `agreement/signatures`."""
        return await self.json(service, "POST", f"/v1/cases/{case_id}/{path}", token, json=body)

    # ---- case screens: history, the aid rule book, people pickers (cases_view) ------------------
    async def case_log(self, token: str, service: str, case_id: str) -> list[dict]:
        """全程留痕 of an aid case (progress notes live there); mediation has no log endpoint."""
        return await self.json(service, "GET", f"/v1/cases/{case_id}/log", token)

    async def aid_rules(self, token: str) -> dict:
        return await self.json("aid", "GET", "/v1/rules", token)

    async def aid_lawyers(self, token: str, county_code: str) -> list[dict]:
        return await self.json("aid", "GET", "/v1/lawyers", token, params={"county_code": county_code})

    async def mediators(self, token: str, county_code: str) -> list[dict]:
        return await self.json(
            "mediation", "GET", "/v1/mediators", token, params={"county_code": county_code, "limit": 500}
        )

    async def committees(self, token: str, region_code: str) -> list[dict]:
        return await self.json(
            "mediation", "GET", "/v1/committees", token, params={"region_code": region_code, "limit": 1000}
        )

    async def case_update(self, token: str, service: str, case_id: str, body: dict) -> dict:
        """A correction of the case itself (mediation: dispute type, summary, claims)."""
        return await self.json(service, "PATCH", f"/v1/cases/{case_id}", token, json=body)

    async def county_staff(self, token: str, county_code: str, role: str | None = None) -> list[dict]:
        """Dispatch's staff of a county (duty state, load, staff code) for the case pickers."""
        params = _clean({"county_code": county_code, "role": role, "limit": 1000})
        return await self.json("dispatch", "GET", "/v1/staff", token, params=params)

    async def aid_document(self, token: str, case_id: str, kind: str) -> str:
        """A legal-aid case's printable document (materials / decision / assignment), as HTML."""
        r = await self.call("aid", "GET", f"/v1/cases/{case_id}/documents/{kind}.html", token)
        return r.text

    async def agreement_html(self, token: str, case_id: str) -> str:
        r = await self.call("mediation", "GET", f"/v1/cases/{case_id}/agreement.html", token)
        return r.text


def _forwarded(client_ip: str) -> dict[str, str]:
    return {"X-Forwarded-For": client_ip} if client_ip else {}


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, "", [])}


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)
