"""Who may manage webhooks: the external systems themselves (a bearer token with the
external_system role, or an API key with the `webhooks:manage` scope — or `workorders:write`: a
system that files orders may hear what became of them). Each sees only its own subscriptions
(owner = its principal), and hears only the orders it filed. Admins may list every subscription
(a disabled one is an alert to follow up)."""

from libs.common.auth import allow

SCOPES = ("webhooks:manage", "workorders:write")
MANAGE = allow("external_system", scopes=SCOPES, note="external systems: their own webhook subscriptions")
LIST = allow("external_system", "admin", scopes=SCOPES, note="own subscriptions; admin: all")

_P = "/v1/webhooks"
POLICY = {
    f"POST {_P}/subscriptions": MANAGE,
    f"GET {_P}/subscriptions": LIST,
    f"GET {_P}/subscriptions/{{subscription_id}}": MANAGE,
    f"PATCH {_P}/subscriptions/{{subscription_id}}": MANAGE,
    f"DELETE {_P}/subscriptions/{{subscription_id}}": MANAGE,
    f"POST {_P}/subscriptions/{{subscription_id}}/rotate-secret": MANAGE,
    f"POST {_P}/subscriptions/{{subscription_id}}/replay": MANAGE,
    f"GET {_P}/subscriptions/{{subscription_id}}/deliveries": MANAGE,
    f"GET {_P}/deliveries/{{delivery_id}}": MANAGE,
    f"POST {_P}/deliveries/{{delivery_id}}/redeliver": MANAGE,
}
