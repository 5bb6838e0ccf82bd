"""The audit package and auth do not import each other (auth only needs who-is-acting, which
lives in libs.common.audit_context), and callers keep using `from libs.common import audit`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _module_file(name: str) -> Path | None:
    base = ROOT / Path(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    """Every libs.common module `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {n for n in found if n.startswith("libs.common.") and _module_file(n)}


def _closure(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += sorted(_imports(_module_file(name)))  # type: ignore[arg-type]
    return seen


def test_auth_does_not_reach_the_audit_package():
    reached = _closure("libs.common.auth")
    assert "libs.common.audit_context" in reached
    assert not {n for n in reached if n == "libs.common.audit" or n.startswith("libs.common.audit.")}


def test_the_audit_package_imports_in_any_order():
    for first, second in (
        ("auth", "audit"),
        ("audit", "auth"),
        ("audit.chain", "auth"),
        ("audit_context", "audit"),
    ):
        code = (
            f"import libs.common.{first}, libs.common.{second}; from libs.common import audit; audit.record"
        )
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_the_public_names_stay_where_callers_find_them():
    from libs.common import audit, audit_context

    for name in audit.__all__:
        assert getattr(audit, name) is not None
    assert audit.request_context is audit_context.request_context  # one context, whoever imports it
