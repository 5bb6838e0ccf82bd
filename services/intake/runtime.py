"""What the intake service adds to the shared runtime (libs.common.app.Runtime): `rt.ext`."""

from __future__ import annotations

from dataclasses import dataclass, field

from libs.common.app import Runtime
from services.intake.reconcile import ReconcileStats


@dataclass
class IntakeExtras:
    # This process's counters of the dispatch reconciliation (services/intake/reconcile.py).
    reconcile: ReconcileStats = field(default_factory=ReconcileStats)


IntakeRuntime = Runtime[IntakeExtras]
