"""Correcting an open order after filing (更正 / 调整分类, issue #16) — pure: which roles may,
and the request bodies that carry only what the person actually changed.

Two requests because intake keeps two records: facts (PATCH, a misheard phone, a better
description) and classification (PUT, which re-routes the order: dispatch follows it)."""

from __future__ import annotations

from typing import Any

from services.console import domain

EDIT_ROLES = ("operator", "counter_staff", "supervisor", "admin")  # intake: front desk, own jurisdiction


def can_edit(order: dict | None, roles: list[str]) -> bool:
    return (
        order is not None
        and bool(order)
        and order.get("status") not in domain.TERMINAL_ORDER_STATUSES
        and bool(set(roles) & set(EDIT_ROLES))
    )


CANCELLABLE = ("received", "offered", "rerouting", "escalated")  # intake's: before anyone took it on


def can_cancel(order: dict | None, roles: list[str]) -> bool:
    """撤销 a mistaken order: the front desk, before anyone accepted it or a case opened."""
    return (
        order is not None
        and bool(order)
        and order.get("status") in CANCELLABLE
        and bool(set(roles) & set(EDIT_ROLES))
    )


def facts_patch(order: dict, form: dict[str, Any]) -> dict[str, Any]:
    """PATCH body: the fields that differ from the order, and the reason. A phone or ID number is
    shown masked, so an empty box means "unchanged", never "erase"."""
    out: dict[str, Any] = {}
    name = (form.get("name") or "").strip()
    if name and name != order.get("requester_name"):
        out["requester_name"] = name
    for box, key in (("phone", "requester_phone"), ("id_number", "requester_id_number")):
        v = (form.get(box) or "").strip().upper()
        if v:
            out[key] = v
    region = form.get("village") or form.get("township") or form.get("county") or ""
    if region and region != order.get("region_code"):
        out["region_code"] = region
    desc = (form.get("description") or "").strip()
    if desc and desc != order.get("description"):
        out["description"] = desc
    if out:
        out["reason"] = (form.get("reason") or "").strip()
    return out


def classification_change(order: dict, form: dict[str, Any]) -> dict[str, Any]:
    """PUT body: type, domain, special groups and urgency that differ, and the reason."""
    out: dict[str, Any] = {}
    for key in ("service_type", "domain", "urgency"):
        v = form.get(key) or None
        if v and v != order.get(key):
            out[key] = v
    groups = sorted(g for g in form.get("special_groups", []) if g in domain.SPECIAL_GROUPS)
    if form.get("groups_shown") and groups != sorted(order.get("special_groups") or []):
        out["special_groups"] = groups
    if out:
        out["reason"] = (form.get("reason") or "").strip()
    return out


# Intake's field names → the edit form's labels, so an error names what the person sees.
FIELD_LABELS = {
    "requester_name": "op.name",
    "requester_phone": "op.phone",
    "requester_id_number": "op.id_number",
    "region_code": "op.region",
    "description": "op.description",
    "service_type": "op.service_type",
    "domain": "op.domain",
    "special_groups": "op.special_groups",
    "urgency": "op.urgency",
    "reason": "oe.reason",
}
