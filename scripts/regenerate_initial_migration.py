"""Regenerate ``0001_initial`` from the table definitions (pre-release only).

Until peelian's first release the schema is one migration. After changing a table in
``src/peelian/data/tables/``, run ``make migration`` (this script): it autogenerates the
migration against a fresh SQLite database. After the first release, add new revisions with
``alembic revision --autogenerate`` instead and never edit a released one.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from peelian.data.store import _alembic_config

VERSIONS = Path(__file__).resolve().parents[1] / "src/peelian/data/migrations/versions"


def main() -> int:
    for old in VERSIONS.glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/m.sqlite")
        with engine.begin() as conn:
            cfg = _alembic_config(conn)
            command.revision(
                cfg,
                message="initial schema",
                autogenerate=True,
                rev_id="0001",
                version_path=str(VERSIONS),
            )
    made = next(VERSIONS.glob("0001_*.py"))
    target = VERSIONS / "0001_initial.py"
    src = made.read_text()
    src = re.sub(r"Create Date: .*", "Create Date: (regenerated before first release)", src)
    src = "\n".join(line.rstrip() for line in src.splitlines()) + "\n"  # "Revises: " and such
    target.write_text(src)
    if made != target:
        made.unlink()
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
