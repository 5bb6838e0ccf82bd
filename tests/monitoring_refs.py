"""What deploy/monitoring asks of /metrics: every PromQL expression of the Prometheus rules and the
Grafana dashboard, parsed (promql-parser, the Rust parser Prometheus-compatible tools use), and the
metric names they select."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import yaml

MONITORING = Path(__file__).resolve().parents[1] / "deploy" / "monitoring"
RULES = MONITORING / "prometheus-rules.yaml"
DASHBOARD = MONITORING / "grafana-dashboard.json"
# Made by Prometheus itself for every target, not by a service.
SYNTHETIC = {"up"}
# Grafana's variables, as Grafana substitutes them before the query reaches Prometheus.
GRAFANA_VARS = {"$__rate_interval": "5m", "$__interval": "1m", "${service}": ".*", "$service": ".*"}


def rule_exprs() -> list[tuple[str, str]]:
    doc = yaml.safe_load(RULES.read_text())
    return [
        (rule.get("alert") or rule["record"], str(rule["expr"]))
        for group in doc["spec"]["groups"]
        for rule in group["rules"]
    ]


def dashboard_panels(dashboard: dict | None = None) -> Iterator[dict]:
    for panel in (dashboard or json.loads(DASHBOARD.read_text()))["panels"]:
        yield panel
        yield from panel.get("panels", [])  # a collapsed row holds its panels


def dashboard_exprs() -> list[tuple[str, str]]:
    out = []
    for panel in dashboard_panels():
        for target in panel.get("targets", []):
            expr = target["expr"]
            for var, value in GRAFANA_VARS.items():
                expr = expr.replace(var, value)
            assert "$" not in expr, f"{panel['title']}: an unknown Grafana variable in {target['expr']}"
            out.append((panel["title"], expr))
    return out


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (parses it: a syntax error raises)."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            return
        for attr in ("expr", "lhs", "rhs", "param", "vector_selector"):
            child = getattr(node, attr, None)
            if child is not None and type(child).__module__.startswith("promql_parser"):
                walk(child)
        for arg in getattr(node, "args", None) or ():
            walk(arg)

    walk(promql_parser.parse(expr))
    return names


def referenced() -> dict[str, set[str]]:
    """metric name → where it is used (alert names, panel titles)."""
    out: dict[str, set[str]] = {}
    for where, expr in rule_exprs() + dashboard_exprs():
        for name in metric_names(expr):
            out.setdefault(name, set()).add(where)
    return out


def exposed_names(families: Any) -> set[str]:
    """Every name a scrape exposes: families (with HELP/TYPE even while they have no sample yet),
    their samples and, by type, the series Prometheus stores (`_total`, `_bucket` …)."""
    names: set[str] = set()
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_count", "_sum"),
        "summary": ("_count", "_sum"),
    }
    for family in families:
        names.add(family.name)
        names.update(f"{family.name}{s}" for s in suffixes.get(family.type, ()))
        names.update(s.name for s in family.samples)
    return names


DURATION = re.compile(
    r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
)
