"""Documentation is checked (STYLE practice 16): every CLI command is documented in docs/."""

from __future__ import annotations

from pathlib import Path

import typer.main

from peelian.cli import app

ROOT = Path(__file__).resolve().parents[1]


def _commands(cmd: object, prefix: str) -> list[str]:
    subcommands = getattr(cmd, "commands", None)
    if subcommands:
        out: list[str] = []
        for name, sub in subcommands.items():
            if not getattr(sub, "hidden", False):
                out += _commands(sub, f"{prefix} {name}")
        return out
    return [prefix]


def _docs_text() -> str:
    return (
        "\n".join(p.read_text() for p in (ROOT / "docs").rglob("*.md"))
        + (ROOT / "README.md").read_text()
    )


def test_every_cli_command_is_documented() -> None:
    root = typer.main.get_command(app)
    commands = _commands(root, "peelian")
    assert "peelian db upgrade" in commands
    text = _docs_text()
    missing = [c for c in commands if c not in text]
    assert not missing, f"CLI commands missing from docs/: {missing}"


def test_every_guide_page_is_linked_from_the_index() -> None:
    index = (ROOT / "docs" / "index.md").read_text()
    pages = sorted(p.name for p in (ROOT / "docs" / "guide").glob("*.md"))
    assert pages, "docs/guide/ has no pages"
    unlinked = [p for p in pages if f"guide/{p}" not in index]
    assert not unlinked, f"docs/index.md does not link: {unlinked}"
