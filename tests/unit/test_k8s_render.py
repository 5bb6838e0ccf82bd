"""scripts/k8s_render.py renders what `kustomize build` would for the subset deploy/k8s uses."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scripts.k8s_render import RenderError, json_patch, merge, render

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "intake"},
    "spec": {
        "template": {
            "spec": {
                "initContainers": [{"name": "migrate", "image": "lawline/lawline:latest"}],
                "containers": [
                    {"name": "intake", "image": "lawline/lawline"},
                    {"name": "x", "image": "other:1"},
                ],
            }
        }
    },
}


def _tree(tmp_path: Path) -> Path:
    base = tmp_path / "base"
    base.mkdir()
    (base / "app.yaml").write_text(
        yaml.safe_dump_all([DEPLOYMENT, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}])
    )
    (base / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {"resources": ["app.yaml"], "labels": [{"pairs": {"a": "b"}, "includeTemplates": True}]}
        )
    )
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    patch = "- {op: replace, path: /spec/template/spec/containers/0/name, value: renamed}"
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "namespace": "lawline",
                "resources": ["../base"],
                "images": [{"name": "lawline/lawline", "newTag": "0.1.0"}],
                "patches": [{"target": {"kind": "Deployment"}, "patch": patch}],
            }
        )
    )
    return overlay


def test_an_overlay_over_a_base(tmp_path):
    deployment, namespace = render(_tree(tmp_path))
    assert deployment["metadata"] == {"name": "intake", "labels": {"a": "b"}, "namespace": "lawline"}
    assert "namespace" not in namespace["metadata"]  # cluster-scoped
    pod = deployment["spec"]["template"]
    assert pod["metadata"]["labels"] == {"a": "b"}
    assert [c["image"] for c in pod["spec"]["initContainers"] + pod["spec"]["containers"]] == [
        "lawline/lawline:0.1.0",
        "lawline/lawline:0.1.0",
        "other:1",
    ]
    assert pod["spec"]["containers"][0]["name"] == "renamed"


def test_json_patch_and_strategic_merge():
    doc = {"kind": "K", "metadata": {"name": "n"}, "spec": {"a": [1, 2], "b": {"c": 1, "d": 2}}}
    out = json_patch(
        doc,
        [{"op": "add", "path": "/spec/a/-", "value": 3}, {"op": "remove", "path": "/spec/b/c"}],
        Path("k"),
    )
    assert out["spec"] == {"a": [1, 2, 3], "b": {"d": 2}} and doc["spec"]["a"] == [1, 2]
    assert merge(doc, {"spec": {"b": {"c": None, "e": 5}, "a": [9]}})["spec"] == {
        "a": [9],
        "b": {"d": 2, "e": 5},
    }
    with pytest.raises(RenderError, match="replace of missing"):
        json_patch(doc, [{"op": "replace", "path": "/spec/zz", "value": 1}], Path("k"))
    with pytest.raises(RenderError, match="'move' is not implemented"):
        json_patch(doc, [{"op": "move", "from": "/spec/a", "path": "/spec/z"}], Path("k"))


def test_a_patch_that_matches_nothing_is_an_error(tmp_path):
    overlay = _tree(tmp_path)
    k = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    k["patches"][0]["target"] = {"kind": "StatefulSet"}
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump(k))
    with pytest.raises(RenderError, match="matches no resource"):
        render(overlay)
