"""Every console label exists in Chinese and English, and every key the screens use is defined."""

from __future__ import annotations

import re
from pathlib import Path

from libs.common.auth import ROLES
from services.console import domain, i18n
from services.console.api_cases import STEPS

CONSOLE = Path(__file__).resolve().parents[2] / "services" / "console"


def test_every_key_has_both_languages():
    missing = [
        k for k, pair in i18n.M.items() if len(pair) != 2 or not pair[0].strip() or not pair[1].strip()
    ]
    assert missing == []
    # Chinese is really Chinese: every zh label has a CJK character (or is the product number / a name).
    not_cjk = [
        k for k, (zh, _) in i18n.M.items() if not re.search(r"[\u4e00-\u9fff]", zh) and k != "nav.lang"
    ]
    assert not_cjk == []


def test_every_literal_key_used_by_templates_and_code_is_defined():
    used: set[str] = set()
    for path in list((CONSOLE / "templates").glob("*.html")) + list(CONSOLE.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*['"]([a-z_]+\.[a-z_0-9]+)['"]""", text))
        used |= set(
            re.findall(r"""(?:message_key|error_key)['"]?\s*[:=]\s*['"]([a-z_]+\.[a-z_0-9]+)['"]""", text)
        )
    assert len(used) > 80  # the scan found the screens' labels
    assert sorted(used - set(i18n.M)) == []


def test_every_dynamic_key_family_is_complete():
    families = {
        "nav": domain.screens_for(list(ROLES)),
        "role": [r for r in ROLES if r != "external_system"],
        "type": domain.SERVICE_TYPES,
        "domain": domain.DOMAINS,
        "group": domain.SPECIAL_GROUPS,
        "urgency": domain.URGENCIES,
        "channel": domain.CHANNELS,
        "reject": domain.REJECT_REASONS,
        "cb": ("callback", "return_visit", *domain.CALLBACK_OUTCOMES),
        "svstate": ("overdue", "at_risk"),
        "risk": domain.RISK_KINDS,
        "webhook": domain.WEBHOOK_STATES,
        "clock": domain.CLOCK_NAMES,
        "ext": ("requested", "approved", "refused"),
        "staffrole": domain.STAFF_ROLES,
        "cs": tuple(STEPS),
        "act": [a for steps in STEPS.values() for a, _ in steps],
        "f": [n for steps in STEPS.values() for _, fields in steps for n, _, _ in fields]
        + [o for steps in STEPS.values() for _, fields in steps for _, _, opts in fields for o in opts],
    }
    missing = [
        f"{fam}.{code}" for fam, codes in families.items() for code in codes if f"{fam}.{code}" not in i18n.M
    ]
    assert missing == []


def test_lookup_falls_back_visibly_and_switches_language():
    assert i18n.t("op.create") == "创建工单" and i18n.t("op.create", "en") == "Create order"
    assert i18n.label("type", "legal_aid", "en") == "Legal aid"
    assert i18n.label("type", "something_new") == "something_new"
    assert i18n.t("no.such_key") == "no.such_key"
