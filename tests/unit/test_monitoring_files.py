"""deploy/monitoring stays loadable: every PromQL expression of the alert rules and the Grafana
dashboard parses, the PrometheusRule has the shape prometheus-operator's CRD asks for, the
dashboard is a valid dashboard model, and the kustomization ships both. (That the metrics they
name are exposed is tests/integration/test_metrics.py, against the running services.)"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.monitoring_refs import (
    DASHBOARD,
    DURATION,
    MONITORING,
    RULES,
    dashboard_exprs,
    dashboard_panels,
    metric_names,
    rule_exprs,
)


def test_every_expression_parses_and_names_a_metric():
    for where, expr in rule_exprs() + dashboard_exprs():
        assert metric_names(expr), f"{where}: selects no metric: {expr}"


def test_a_broken_expression_is_refused():
    with pytest.raises(ValueError):
        metric_names("sum by (service) (rate(lawline_http_request_duration_seconds_count[5m])")
    assert metric_names('histogram_quantile(0.95, sum by (le) (rate(a_bucket{x="1"}[5m]))) / b') == {
        "a_bucket",
        "b",
    }


def test_the_prometheus_rule_has_the_operators_shape():
    doc = yaml.safe_load(RULES.read_text())
    assert doc["apiVersion"] == "monitoring.coreos.com/v1" and doc["kind"] == "PrometheusRule"
    assert doc["metadata"]["name"]
    groups = doc["spec"]["groups"]
    assert len({g["name"] for g in groups}) == len(groups)
    alerts = [r for g in groups for r in g["rules"]]
    for rule in alerts:
        assert set(rule) <= {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}, rule
        assert DURATION.match(rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        assert all(isinstance(v, str) for v in {**rule["labels"], **rule["annotations"]}.values())
    names = {r["alert"] for r in alerts}
    assert len(names) == len(alerts)
    # The brief: outbox lag, consumer lag, dead letters, overdue orders, 5xx rate, service down.
    assert {
        "LawlineOutboxLag",
        "LawlineConsumerLag",
        "LawlineDeadLetters",
        "LawlineOverdueOrders",
        "LawlineHigh5xxRate",
        "LawlineServiceDown",
    } <= names


def test_the_dashboard_is_a_grafana_dashboard_model():
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] and dash["title"] and isinstance(dash["schemaVersion"], int)
    variables = {v["name"] for v in dash["templating"]["list"]}
    assert {"datasource", "service"} <= variables
    panels = list(dashboard_panels(dash))
    ids = [p["id"] for p in panels]
    assert len(set(ids)) == len(ids)
    for p in panels:
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0, p["title"]
        if p["type"] == "row":
            continue
        assert p["type"] in {"timeseries", "stat", "table", "bargauge", "gauge"}, p["title"]
        assert p["datasource"]["uid"] == "${datasource}", p["title"]
        refs = [t["refId"] for t in p["targets"]]
        assert refs and len(set(refs)) == len(refs), p["title"]
    # No two panels overlap on the grid.
    cells = set()
    for p in panels:
        g = p["gridPos"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, p["title"]
                cells.add((x, y))


def test_the_kustomization_ships_the_rules_and_the_dashboard():
    k = yaml.safe_load((MONITORING / "kustomization.yaml").read_text())
    assert "prometheus-rules.yaml" in k["resources"]
    (gen,) = k["configMapGenerator"]
    assert gen["files"] == ["grafana-dashboard.json"] and gen["options"]["labels"]["grafana_dashboard"] == "1"
