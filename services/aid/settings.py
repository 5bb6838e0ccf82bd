"""Aid's configurable rules (rules.yaml): scope lists, provincial thresholds, 点援制 counties.

The statute leaves these to provinces and localities (法律援助法 Art 31(9), 34, 42(4)), so they
are data, not constants. `AID_RULES_PATH` points at a province's own file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_PATH = Path(__file__).with_name("rules.yaml")


@dataclass(frozen=True)
class Threshold:
    monthly_income_per_capita: Decimal
    assets_max: Decimal | None


@dataclass(frozen=True)
class AidRules:
    scope_art31: dict[str, str]
    no_means_test_art32: dict[str, str]
    criminal_applications: dict[str, str]
    provincial_extensions: dict[str, dict[str, str]]
    thresholds: dict[str, Threshold]
    lawyer_choice_counties: frozenset[str]
    supplement_days: int = 5
    deferrable_items: frozenset[str] = field(default_factory=frozenset)
    senior_practice_years: int = 3
    provide_first_days: int = 7

    def threshold(self, province: str) -> Threshold:
        return self.thresholds.get(province) or self.thresholds["default"]

    def extensions(self, province: str) -> dict[str, str]:
        return self.provincial_extensions.get(province, {})

    def all_matters(self, province: str) -> dict[str, str]:
        return {
            **self.scope_art31,
            **self.extensions(province),
            **self.no_means_test_art32,
            **self.criminal_applications,
        }


def parse_rules(raw: dict) -> AidRules:  # type: ignore[type-arg]
    def thr(v: dict) -> Threshold:  # type: ignore[type-arg]
        assets = v.get("assets_max")
        return Threshold(
            Decimal(str(v["monthly_income_per_capita"])), Decimal(str(assets)) if assets else None
        )

    return AidRules(
        scope_art31=dict(raw["scope_art31"]),
        no_means_test_art32=dict(raw["no_means_test_art32"]),
        criminal_applications=dict(raw["criminal_applications"]),
        provincial_extensions={str(k): dict(v) for k, v in (raw.get("provincial_extensions") or {}).items()},
        thresholds={str(k): thr(v) for k, v in raw["hardship_thresholds"].items()},
        lawyer_choice_counties=frozenset(str(c) for c in raw.get("lawyer_choice_counties") or []),
        supplement_days=int(raw.get("supplement_days", 5)),
        deferrable_items=frozenset(raw.get("deferrable_items") or []),
        senior_practice_years=int(raw.get("senior_practice_years", 3)),
        provide_first_days=int(raw.get("provide_first_days", 7)),
    )


@lru_cache
def get_rules() -> AidRules:
    path = Path(os.environ.get("AID_RULES_PATH") or DEFAULT_PATH)
    return parse_rules(yaml.safe_load(path.read_text(encoding="utf-8")))
