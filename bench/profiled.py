"""Run one service under pyinstrument (whole process: event loop and every coroutine)
and write the profile as text when it is stopped (SIGINT / SIGTERM).

    BENCH_PROFILE_OUT=/tmp/p.txt python -m bench.profiled services.intake.main:create_app 8123
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

import uvicorn
from pyinstrument import Profiler


def main() -> None:
    target, port = sys.argv[1], int(sys.argv[2])
    module, attr = target.split(":")
    app = getattr(importlib.import_module(module), attr)()
    profiler = Profiler(interval=0.001, async_mode="disabled")
    profiler.start()
    try:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    finally:
        profiler.stop()
        out = Path(os.environ.get("BENCH_PROFILE_OUT", "profile.txt"))
        out.write_text(profiler.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")
        out.with_suffix(".json").write_text(json.dumps(hotspots(profiler)), encoding="utf-8")


def _package(path: str) -> str:
    """Which library a frame belongs to: the site-packages top-level name, our own
    services/<svc> or libs/common/<module>, the stdlib module, or builtins."""
    path = path or "?"
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    for ours in ("services/", "libs/common/"):
        if ours in path:
            return ours + path.split(ours, 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/lib/python" in path:
        parts = path.split("/lib/python", 1)[1].split("/")  # ["3.11", "asyncio", "runners.py"]
        return "stdlib:" + (parts[1] if len(parts) > 1 else parts[0]).removesuffix(".py")
    if path.startswith("<"):
        return "builtins" if "built-in" in path else path
    return path.split("/", 1)[0].removesuffix(".py")


def _parent_path(frame) -> str:  # type: ignore[no-untyped-def]
    """Synthetic frames ([self], [await]) carry no path: charge them to their parent's."""
    parent = getattr(frame, "parent", None)
    while parent is not None and not parent.file_path:
        parent = getattr(parent, "parent", None)
    return parent.file_path if parent is not None else (frame.file_path_short or "?")


def hotspots(profiler: Profiler, top: int = 25) -> dict:
    """Self time by function and by library over the whole run (idle loop time included
    as 'select', so shares are of wall time)."""
    session = profiler.last_session
    root = session.root_frame() if session else None
    by_fn: dict[str, float] = {}
    by_pkg: dict[str, float] = {}

    def walk(frame) -> None:  # type: ignore[no-untyped-def]
        self_t = frame.total_self_time
        if self_t:
            key = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
            by_fn[key] = by_fn.get(key, 0.0) + self_t
            pkg = _package(frame.file_path or _parent_path(frame))
            by_pkg[pkg] = by_pkg.get(pkg, 0.0) + self_t
        for child in frame.children:
            walk(child)

    if root is not None:
        walk(root)
    total = sum(by_pkg.values()) or 1.0
    return {
        "duration_s": session.duration if session else 0,
        "self_time_by_package": sorted(
            ((k, round(v / total, 4)) for k, v in by_pkg.items()), key=lambda kv: -kv[1]
        )[:top],
        "self_time_by_function": sorted(
            ((k, round(v / total, 4)) for k, v in by_fn.items()), key=lambda kv: -kv[1]
        )[:top],
    }


if __name__ == "__main__":
    main()
