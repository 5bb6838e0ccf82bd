"""Validate rendered manifests against the real schemas, offline.

- Kubernetes' own kinds (Deployment, Service, NetworkPolicy, …): the schemas PyPI
  `kubernetes-validate` bundles, strict (an unknown field is an error).
- Custom resources: the upstream CRDs copied into deploy/k8s/crds/ (versions in its README).
  Each served version's openAPIV3Schema is checked as JSON Schema, made strict the way
  deploy/k8s/crds/README.md says: `additionalProperties: false` wherever a schema lists its
  properties and neither allows others nor preserves unknown fields (the API server would prune a
  typo silently; here it fails), `nullable` understood. CEL rules are not evaluated.
- The Barman Cloud plugin's ObjectStore has no CRD here; its `configuration` is the
  barman-cloud object-store type the Cluster CRD carries as `spec.backup.barmanObjectStore`, so
  it is checked against that schema, and its retention policy against the Cluster's pattern.

    python -m scripts.k8s_check deploy/k8s/overlays/production
"""

from __future__ import annotations

import re
import sys
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate import utils as kv
from referencing import Registry, Resource

from scripts.k8s_render import render

ROOT = Path(__file__).resolve().parents[1]
CRDS = ROOT / "deploy" / "k8s" / "crds"
# The oldest Kubernetes minor a provincial cluster is expected to run, and the newest bundled.
KUBERNETES_VERSIONS = ("1.33.0", kubernetes_validate.latest_version())
CORE_GROUPS = {"v1", "apps/v1", "batch/v1", "autoscaling/v2", "policy/v1", "networking.k8s.io/v1"}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _strict(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        k: _strict(v) if k not in ("enum", "required", "default", "example") else v for k, v in schema.items()
    }
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@lru_cache(maxsize=1)
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> strict JSON Schema, for every served version of every CRD copied."""
    schemas = {}
    for path in sorted(CRDS.glob("*/*.yaml")):
        crd = yaml.load(path.read_text(), Loader=_Loader)
        spec = crd["spec"]
        for version in spec["versions"]:
            if version.get("served"):
                key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                schemas[key] = _strict(version["schema"]["openAPIV3Schema"])
    return schemas


def _errors(schema: dict[str, Any], instance: Any) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    ]


@cache
def _core_validator(version: str, api: str, kind: str) -> jsonschema.Validator | None:
    """kubernetes_validate.validate's own lookup (the newest bundled schema not newer than
    `version`, strict), kept: it re-reads the multi-megabyte definitions file on every call."""
    bundled = [v for v in kv.all_versions() if kv.major_minor(v) <= kv.major_minor(version)][-1]
    directory = f"kubernetes-json-schema/v{bundled}-local-strict"
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api)
    try:
        schema = kv.schema_contents(f"{directory}/{kind.lower()}-{group}.json", version)
    except FileNotFoundError:
        return None
    definitions = kv.schema_contents(f"{directory}/_definitions.json", version)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _object_store_errors(doc: dict[str, Any]) -> list[str]:
    cluster = crd_schemas()[("postgresql.cnpg.io/v1", "Cluster")]
    backup = cluster["properties"]["spec"]["properties"]["backup"]["properties"]
    spec = doc.get("spec") or {}
    errors = [f"spec.{k}: not an ObjectStore field" for k in set(spec) - {"configuration", "retentionPolicy"}]
    if "configuration" not in spec:
        errors.append("spec.configuration: required")
    errors += [
        f"spec.configuration/{e}" for e in _errors(backup["barmanObjectStore"], spec.get("configuration"))
    ]
    if "retentionPolicy" in spec:
        errors += [
            f"spec.retentionPolicy: {e}" for e in _errors(backup["retentionPolicy"], spec["retentionPolicy"])
        ]
    return errors


def errors_of(doc: dict[str, Any]) -> list[str]:
    """Everything wrong with one manifest, per the schema of its apiVersion and kind."""
    api, kind = doc.get("apiVersion", ""), doc.get("kind", "")
    if api in CORE_GROUPS:
        found = []
        for version in KUBERNETES_VERSIONS:
            validator = _core_validator(version, api, kind)
            if validator is None:
                found.append(f"Kubernetes {version} has no {api} {kind}")
                continue
            for e in validator.iter_errors(doc):
                found.append(f"Kubernetes {version}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
        return found
    if (api, kind) == ("barmancloud.cnpg.io/v1", "ObjectStore"):
        return _object_store_errors(doc)
    schema = crd_schemas().get((api, kind))
    if schema is None:
        return [f"no schema for {api} {kind}: copy its CRD into deploy/k8s/crds/"]
    return _errors(schema, doc)


def check(directory: Path | str) -> dict[str, list[str]]:
    """`kind/name` -> errors, for every manifest the kustomization renders that has any."""
    found = {}
    for doc in render(directory):
        errors = errors_of(doc)
        if errors:
            found[f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"] = errors
    return found


def main() -> None:
    bad = 0
    for directory in sys.argv[1:] or ["deploy/k8s/overlays/production", "deploy/k8s/overlays/staging"]:
        for name, errors in check(directory).items():
            bad += 1
            for e in errors:
                print(f"{directory}: {name}: {e}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
