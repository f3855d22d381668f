"""Retention: every dataset's rule applied by scheduled sweeps through the connectors, in chunks, with legal holds
(reason, who, expiry) suspending deletion of what they cover (LAN-RETENTION, LUB-SECURITY).

    report = RetentionSweep(sessions, keyring, Secrets.from_environment()).run("acme", dry_run=True)
"""

from charter.retention.rules import (
    HoldScope,
    SweepTarget,
    TargetStatus,
    cutoff,
    held_for,
    shutdown_targets,
    sweep_targets,
)
from charter.retention.services import LegalHolds, RetentionRuns
from charter.retention.sweep import Outcome, RetentionSweep, SweepProgress, SweepReport
from charter.retention.tasks import run_retention_sweep, sweep_every_controller

__all__ = [
    "HoldScope",
    "LegalHolds",
    "Outcome",
    "RetentionRuns",
    "RetentionSweep",
    "SweepProgress",
    "SweepReport",
    "SweepTarget",
    "TargetStatus",
    "cutoff",
    "held_for",
    "run_retention_sweep",
    "shutdown_targets",
    "sweep_every_controller",
    "sweep_targets",
]
