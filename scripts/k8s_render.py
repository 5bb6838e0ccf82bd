"""Render a kustomization the way `kustomize build` does, for the subset deploy/k8s uses.

No kustomize binary is installable here (nor from PyPI, npm or Debian), and the tests must render
the overlays on a clean machine, so this renders: `resources` (files and directories with their
own kustomization, recursively), `patches` (inline, with a `target` of kind and/or name: a YAML
list is an RFC 6902 JSON patch with add/replace/remove, a mapping a strategic-merge patch as a
deep merge of mappings — lists replaced whole — or `$patch: delete` to drop the target),
`namespace`, `labels` (pairs, optionally on pod templates) and `images` (newName/newTag/digest).
Anything else in a kustomization is refused by name rather than silently ignored, so a feature
added to the manifests fails here until it is implemented.

    python -m scripts.k8s_render deploy/k8s/overlays/production > rendered.yaml
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

Doc = dict[str, Any]
KNOWN = {"apiVersion", "kind", "resources", "patches", "namespace", "labels", "images"}
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
}
POD_TEMPLATES = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}


class RenderError(ValueError):
    pass


def render(directory: Path | str) -> list[Doc]:
    directory = Path(directory)
    path = directory / "kustomization.yaml"
    k = yaml.safe_load(path.read_text())
    unknown = set(k) - KNOWN
    if unknown:
        raise RenderError(f"{path}: not implemented by scripts/k8s_render.py: {sorted(unknown)}")
    docs: list[Doc] = []
    for entry in k.get("resources", []):
        target = directory / entry
        if target.is_dir():
            docs += render(target)
        else:
            docs += [d for d in yaml.safe_load_all(target.read_text()) if d]
    for patch in k.get("patches", []):
        docs = apply_patch(docs, patch, path)
    if "namespace" in k:
        for d in docs:
            if d["kind"] not in CLUSTER_SCOPED:
                d["metadata"]["namespace"] = k["namespace"]
    for label in k.get("labels", []):
        if label.get("includeSelectors"):
            raise RenderError(f"{path}: labels.includeSelectors is not implemented")
        for d in docs:
            d["metadata"].setdefault("labels", {}).update(label["pairs"])
            if label.get("includeTemplates") and d["kind"] in POD_TEMPLATES:
                meta = d["spec"]["template"].setdefault("metadata", {})
                meta.setdefault("labels", {}).update(label["pairs"])
    for image in k.get("images", []):
        for d in docs:
            for container in _containers(d):
                _set_image(container, image)
    return docs


def _containers(doc: Doc) -> list[Doc]:
    if doc["kind"] not in POD_TEMPLATES:
        return []
    pod = doc["spec"]["template"]["spec"]
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def _set_image(container: Doc, image: Doc) -> None:
    ref = container["image"]
    name, digest = ref.split("@", 1) if "@" in ref else (ref, None)
    slash = name.rfind("/")
    colon = name.rfind(":")
    name, tag = (name[:colon], name[colon + 1 :]) if colon > slash else (name, None)
    if name != image["name"]:
        return
    name = image.get("newName", name)
    if "digest" in image:
        container["image"] = f"{name}@{image['digest']}"
    else:
        tag = image.get("newTag", tag)
        container["image"] = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _matches(doc: Doc, target: Doc, where: Path) -> bool:
    unknown = set(target) - {"kind", "name"}
    if unknown:
        raise RenderError(f"{where}: patch target {sorted(unknown)} is not implemented")
    return all(
        (doc["kind"] if key == "kind" else doc["metadata"]["name"]) == value for key, value in target.items()
    )


def apply_patch(docs: list[Doc], patch: Doc, where: Path) -> list[Doc]:
    if set(patch) - {"target", "patch"} or "patch" not in patch:
        raise RenderError(f"{where}: only inline patches with a target are implemented: {patch}")
    body = yaml.safe_load(patch["patch"])
    target = patch.get("target") or {}
    if isinstance(body, dict) and not target:
        target = {"kind": body["kind"], "name": body["metadata"]["name"]}
    hits = [d for d in docs if _matches(d, target, where)]
    if not hits:
        raise RenderError(f"{where}: patch target {target} matches no resource")
    out = []
    for d in docs:
        if not any(d is h for h in hits):
            out.append(d)
        elif isinstance(body, list):
            out.append(json_patch(d, body, where))
        elif body.get("$patch") == "delete":
            continue
        else:
            out.append(merge(d, body))
    return out


def merge(doc: Any, patch: Any) -> Any:
    """Strategic merge for mappings (kustomize merges some lists by key; these manifests don't
    rely on that: a list in a patch replaces the list)."""
    if not isinstance(doc, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(doc)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(doc.get(key), value)
    return out


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise RenderError(f"JSON pointer must start with '/': {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json_patch(doc: Doc, ops: list[Doc], where: Path) -> Doc:
    """RFC 6902 add / replace / remove (test, move and copy are not used here: refused)."""
    doc = copy.deepcopy(doc)
    for op in ops:
        *parents, last = _pointer(op["path"])
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        kind = op["op"]
        if isinstance(node, list):
            index = len(node) if last == "-" else int(last)
            if kind == "add":
                node.insert(index, copy.deepcopy(op["value"]))
            elif kind == "replace":
                node[index] = copy.deepcopy(op["value"])
            elif kind == "remove":
                del node[index]
            else:
                raise RenderError(f"{where}: JSON patch op {kind!r} is not implemented")
        elif kind == "add":
            node[last] = copy.deepcopy(op["value"])
        elif kind == "replace":
            if last not in node:
                raise RenderError(f"{where}: replace of missing {op['path']} in {doc['metadata']['name']}")
            node[last] = copy.deepcopy(op["value"])
        elif kind == "remove":
            del node[last]
        else:
            raise RenderError(f"{where}: JSON patch op {kind!r} is not implemented")
    return doc


def main() -> None:
    docs = render(sys.argv[1] if len(sys.argv) > 1 else "deploy/k8s/overlays/production")
    sys.stdout.write(yaml.safe_dump_all(docs, sort_keys=False, width=110))


if __name__ == "__main__":
    main()
