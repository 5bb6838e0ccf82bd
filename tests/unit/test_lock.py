"""The lock files cover exactly what pyproject.toml asks for (#20 item 4).

`make venv` (and so `make test`, `.ci/run`) installs requirements-dev.lock with
`pip install --require-hashes` and then lawline with `--no-deps`: a dependency added to
pyproject.toml without refreshing the lock is simply not installed. This test names it, and says
what to do: run `make lock`. The image (deploy/Dockerfile) installs requirements.lock, the
runtime part, resolved within the dev lock so it runs the versions the tests ran.
"""

from __future__ import annotations

import ast
import difflib
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DEV_LOCK = ROOT / "requirements-dev.lock"
RUNTIME_LOCK = ROOT / "requirements.lock"
FIX = "run `make lock` (then commit requirements.lock and requirements-dev.lock)"
DIRECT = "lawline (pyproject.toml)"  # how uv marks a package pyproject.toml asks for itself


@dataclass
class Pin:
    req: Requirement
    hashes: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return canonicalize_name(self.req.name)

    @property
    def version(self) -> str:
        (spec,) = self.req.specifier
        return spec.version

    def applies(self) -> bool:
        """The pin is for this interpreter (a universal lock may pin per Python version)."""
        return self.req.marker is None or self.req.marker.evaluate()


def parse_lock(path: Path) -> list[Pin]:
    """uv's `pip compile --generate-hashes` output: `name==version ; marker \\`, its
    `--hash=` lines, then `# via` annotations (one on the line, or one per following line)."""
    pins: list[Pin] = []
    in_via = False
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not line.startswith((" ", "#")):
            pins.append(Pin(Requirement(stripped.rstrip("\\").strip())))
            in_via = False
        elif stripped.startswith("--hash="):
            pins[-1].hashes.append(stripped.removeprefix("--hash=").rstrip("\\").strip())
        elif pins and stripped.startswith("# via"):
            rest = stripped.removeprefix("# via").strip()
            in_via = not rest
            if rest:
                pins[-1].via.append(rest)
        elif pins and in_via and stripped.startswith("#   "):
            pins[-1].via.append(stripped.removeprefix("#").strip())
    return pins


def applicable(path: Path) -> dict[str, Pin]:
    pins: dict[str, Pin] = {}
    for pin in parse_lock(path):
        if pin.applies():
            assert pin.name not in pins, f"{path.name} pins {pin.name} twice for this Python"
            pins[pin.name] = pin
    return pins


def extras() -> dict[str, list[str]]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get("optional-dependencies", {})


def asked(*, dev: bool) -> list[Requirement]:
    """What pyproject.toml asks for: the dev lock has every extra, the image's every extra but dev
    (the deployment options, e.g. aid's S3 document store)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for name, more in extras().items():
        if dev or name != "dev":
            reqs += more
    return [r for r in map(Requirement, reqs) if r.marker is None or r.marker.evaluate()]


def _check_covers(lock: Path, requirements: list[Requirement]) -> list[str]:
    pins = applicable(lock)
    problems = []
    for req in requirements:
        pin = pins.get(canonicalize_name(req.name))
        if pin is None:
            problems.append(f"pyproject.toml asks for {req}, {lock.name} has no {req.name}")
        elif not req.specifier.contains(pin.version, prereleases=True):
            problems.append(f"pyproject.toml asks for {req}, {lock.name} pins {pin.version}")
    direct = {canonicalize_name(r.name) for r in requirements}
    for pin in pins.values():
        if DIRECT in pin.via and pin.name not in direct:
            problems.append(f"{lock.name} pins {pin.name} for pyproject.toml, which no longer asks for it")
    return problems


def test_the_dev_lock_pins_every_dependency_within_its_range():
    problems = _check_covers(DEV_LOCK, asked(dev=True))
    assert not problems, f"{FIX}:\n  " + "\n  ".join(problems)


def test_the_runtime_lock_pins_the_runtime_dependencies_at_the_tested_versions():
    problems = _check_covers(RUNTIME_LOCK, asked(dev=False))
    dev = applicable(DEV_LOCK)
    for name, pin in applicable(RUNTIME_LOCK).items():
        if name not in dev or dev[name].version != pin.version:
            got = dev[name].version if name in dev else "nothing"
            problems.append(f"requirements.lock pins {name} {pin.version}, requirements-dev.lock {got}")
    dev_only = {canonicalize_name(Requirement(r).name) for r in extras().get("dev", [])} - {
        canonicalize_name(r.name) for r in asked(dev=False)
    }
    for name in dev_only & set(applicable(RUNTIME_LOCK)):
        if DIRECT in applicable(RUNTIME_LOCK)[name].via:
            problems.append(f"requirements.lock (the image) pins the dev tool {name}")
    assert not problems, f"{FIX}:\n  " + "\n  ".join(problems)


def test_every_pin_has_a_hash_and_an_exact_version():
    for lock in (DEV_LOCK, RUNTIME_LOCK):
        for pin in parse_lock(lock):
            assert pin.hashes, f"{lock.name}: {pin.name} has no --hash ({FIX})"
            assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in pin.hashes), pin.name
            assert str(pin.req.specifier).startswith("=="), f"{lock.name}: {pin.req} is not an exact pin"


def test_the_extras_asked_for_are_locked_too():
    """`uvicorn[standard]`, `pyjwt[crypto]`…: what each extra brings must be in the lock as well.
    Read from the installed distribution, which `make venv` installed from the same lock."""
    pins = applicable(DEV_LOCK)
    problems = []
    for req in asked(dev=True):
        if not req.extras:
            continue
        dist = importlib.metadata.distribution(req.name)
        locked = pins[canonicalize_name(req.name)].version
        assert dist.version == locked, (
            f"{req.name} {dist.version} installed, {locked} locked: run `make venv`"
        )
        for extra in req.extras:
            for raw in dist.requires or []:
                sub = Requirement(raw)
                if sub.marker is None or not sub.marker.evaluate({"extra": extra}):
                    continue
                if sub.marker.evaluate({"extra": ""}):
                    continue  # not the extra's: a plain (maybe platform-specific) dependency
                if canonicalize_name(sub.name) not in pins:
                    problems.append(f"{req.name}[{extra}] needs {sub}, not in {DEV_LOCK.name}")
    assert not problems, f"{FIX}:\n  " + "\n  ".join(problems)


def test_a_dependency_added_without_refreshing_the_lock_is_named(tmp_path):
    """The check itself can fail: a lock missing a dependency, or pinning one outside its range."""
    text = DEV_LOCK.read_text()
    trimmed = re.sub(r"(?ms)^alembic==.*?(?=^\S)", "", text)
    assert trimmed != text
    (tmp_path / "lock").write_text(re.sub(r"(?m)^fastapi==[^ ;]+", "fastapi==0.1.0", trimmed))
    problems = _check_covers(tmp_path / "lock", asked(dev=True))
    assert any("has no alembic" in p for p in problems), problems
    assert any("fastapi" in p and "pins 0.1.0" in p for p in problems), problems


def test_make_lock_reproduces_the_committed_locks(tmp_path):
    """`make lock`'s own commands (read with `make -n`), run on copies: with the committed
    locks as their starting point they must write them back unchanged. A lock edited by hand, or
    one that no longer matches pyproject.toml, comes out different. Resolves against PyPI (the
    package index is outside the system; a few seconds)."""
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "uv").exists(), f"uv is in the dev extra: {FIX}"
    dry = subprocess.run(
        ["make", "-n", "lock", f"BIN={bin_dir}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    commands = [line for line in dry.splitlines() if " pip compile " in line]
    assert len(commands) == 2 and all("--generate-hashes" in c for c in commands), dry
    for name in ("pyproject.toml", DEV_LOCK.name, RUNTIME_LOCK.name):
        shutil.copy(ROOT / name, tmp_path / name)
    for command in commands:
        done = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr
    for lock in (DEV_LOCK, RUNTIME_LOCK):
        written = (tmp_path / lock.name).read_text().splitlines()
        diff = list(difflib.unified_diff(lock.read_text().splitlines(), written, lineterm="", n=0))
        assert not diff, f"{lock.name} is not what make lock writes ({FIX}):\n" + "\n".join(diff[:20])


# Imported only by offline tools that run from a developer's checkout, never in the image.
OFFLINE_ONLY = {"sklearn": "services/intake/classifier (training and evaluation, python -m …train)"}


def test_the_image_lock_has_every_package_the_code_imports():
    """deploy/Dockerfile installs requirements.lock only: a module libs/ or services/ imports
    from a distribution missing there would fail in production, not in the tests."""
    distributions = importlib.metadata.packages_distributions()
    pins = set(applicable(RUNTIME_LOCK))
    missing: dict[str, set[str]] = {}
    for path in [*(ROOT / "libs").rglob("*.py"), *(ROOT / "services").rglob("*.py")]:
        if "testing" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for top in {n.split(".")[0] for n in names}:
                if top in sys.stdlib_module_names or top in ("libs", "services", "__future__"):
                    continue
                if top in OFFLINE_ONLY:
                    continue
                if not any(canonicalize_name(d) in pins for d in distributions.get(top, [])):
                    missing.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    assert not missing, (
        "imported, but not in requirements.lock (a runtime dependency or extra of pyproject.toml, "
        f"then {FIX}): " + "; ".join(f"{m} in {sorted(f)[:3]}" for m, f in sorted(missing.items()))
    )


def test_the_image_lock_takes_every_extra_but_dev():
    dry = subprocess.run(["make", "-n", "lock"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    runtime = next(line for line in dry.splitlines() if "-o requirements.lock" in line)
    assert set(re.findall(r"--extra (\S+)", runtime)) == set(extras()) - {"dev"}, (
        "a new extra of pyproject.toml: add it to RUNTIME_EXTRAS in the Makefile (or keep it dev-only)"
    )
