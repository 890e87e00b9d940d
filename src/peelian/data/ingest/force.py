"""Force records import: declarative YAML mappings from RMS exports (CSV, Excel) to the force
tables, with the same reconciliation, quarantine and replacement rules as police.uk ingest.

- :func:`load_mapping` -- read and check a mapping (a path, or ``synthetic_rms`` /
  ``template_rms`` shipped in ``peelian/data/mappings``).
- :func:`ingest_force` -- ingest files or folders through a mapping; returns the report.
- :data:`TARGETS` -- what each force table accepts.
"""

from __future__ import annotations

from peelian.data.ingest._force_ingest import SYNTHETIC_README, ingest_force
from peelian.data.ingest._force_mapping import Mapping, load_mapping, shipped_mappings
from peelian.data.ingest._force_targets import TARGETS, Target
from peelian.data.ingest._force_transform import UK_BOUNDS

__all__ = [
    "SYNTHETIC_README",
    "TARGETS",
    "UK_BOUNDS",
    "Mapping",
    "Target",
    "ingest_force",
    "load_mapping",
    "shipped_mappings",
]
