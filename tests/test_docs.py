"""Documentation is checked (STYLE practice 16).

- every CLI command, subcommand and option is documented, and the generated command reference in
  ``docs/guide/cli.md`` is up to date (``scripts/gen_cli_reference.py``);
- every API route in the OpenAPI schema is in ``docs/guide/api.md`` (or the dashboard page);
- docstring examples run (doctest over every module of ``peelian``);
- every relative link in ``docs/`` and ``README.md`` resolves, anchors included;
- no doc or docstring says who wrote what.
"""

from __future__ import annotations

import copy
import doctest
import importlib
import importlib.util
import pkgutil
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import typer.main

import peelian
from peelian.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@cache
def _gen() -> ModuleType:
    """``scripts/gen_cli_reference.py`` imported as a module (scripts/ is not a package)."""
    path = ROOT / "scripts" / "gen_cli_reference.py"
    spec = importlib.util.spec_from_file_location("gen_cli_reference", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _doc_pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md")) + [ROOT / "README.md"]


def _prose_pages() -> dict[str, str]:
    """Each page of docs/ and README.md, without the generated command reference."""
    gen = _gen()
    pages = {}
    for page in _doc_pages():
        text = page.read_text()
        if gen.START in text:
            head, rest = text.split(gen.START, 1)
            text = head + rest.split(gen.END, 1)[1]
        pages[str(page.relative_to(ROOT))] = text
    return pages


def _prose() -> str:
    """All of docs/ and README.md except the generated command reference."""
    return "\n".join(_prose_pages().values())


#: Options every command shares, documented once under the conventions of docs/guide/cli.md.
SHARED_OPTIONS = ("--db", "--json")


def _leaf_commands() -> list[tuple[str, Any]]:
    return list(_gen().walk(typer.main.get_command(app), "peelian"))


# --- CLI -------------------------------------------------------------------------------------


def test_every_cli_command_is_documented_in_prose() -> None:
    commands = [path for path, _ in _leaf_commands()]
    assert "peelian db upgrade" in commands and "peelian audit verify" in commands
    text = _prose()
    missing = [c for c in commands if c not in text]
    assert not missing, (
        f"CLI commands missing from docs/ (outside the generated reference): {missing}"
    )


def test_every_cli_option_is_documented() -> None:
    """Each option has help, and its flag is written on a guide page that names its command
    (outside the generated reference); the shared ``--db`` and ``--json`` once in cli.md."""
    pages = _prose_pages()
    conventions = pages["docs/guide/cli.md"].split("## Exit codes", 1)[0]
    assert all(f"`{flag}" in conventions for flag in SHARED_OPTIONS)
    gen = _gen()
    missing, no_help = [], []
    for path, cmd in _leaf_commands():
        named_on = [text for text in pages.values() if f"{path}" in text]
        for param in gen.options(cmd):
            if not (param.help or "").strip():
                no_help.append(f"{path} {param.opts[0]}")
            if param.opts[0] in SHARED_OPTIONS:
                continue
            if not any(flag in text for flag in param.opts for text in named_on):
                missing.append(f"{path} {param.opts[0]}")
    assert not no_help, f"options without help text (the reference would be empty): {no_help}"
    assert not missing, f"CLI options not on a docs/ page that names their command: {missing}"


def test_cli_reference_is_up_to_date() -> None:
    gen = _gen()
    page = gen.PAGE.read_text()
    assert gen.START in page and gen.END in page, "run python scripts/gen_cli_reference.py"
    assert gen.render(page) == page, (
        "docs/guide/cli.md's command reference is out of date: "
        "run .venv/bin/python scripts/gen_cli_reference.py"
    )
    for path, cmd in _leaf_commands():
        assert f"### `{path}`" in page
        for param in gen.options(cmd):
            assert f"| `{gen.flags(param)}` |" in page, (path, param.opts)


def test_cli_reference_generator_sees_a_new_option() -> None:
    """The up-to-date check can fail: a reference built before an option existed differs."""
    gen = _gen()
    root = typer.main.get_command(app)
    info = root.commands["info"]
    before = gen.reference(root)
    extra = copy.copy(info.params[-1])
    extra.name, extra.opts, extra.secondary_opts = "brand_new_flag", ["--brand-new-flag"], []
    extra.help = "Made up for this test."
    info.params.append(extra)
    after = gen.reference(root)
    assert before != after
    assert "| `--brand-new-flag` | Made up for this test. |" in after


# --- API -------------------------------------------------------------------------------------


def _api_routes() -> list[tuple[str, str]]:
    """``(METHOD, path)`` of every route ``create_app`` puts in its OpenAPI schema.

    FastAPI builds the schema from exactly the routes with ``include_in_schema``; reading it
    rather than ``app.routes`` also sees routes of included routers, which newer FastAPI
    versions keep behind lazy ``_IncludedRouter`` objects.
    """
    import tempfile

    from peelian.config import Settings
    from peelian.web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=tmp, env="test", secret_key="test-secret-" + "x" * 32)
        schema = create_app(settings).openapi()
    return sorted((m.upper(), p) for p, ops in schema["paths"].items() for m in ops)


def test_every_api_route_is_documented() -> None:
    routes = _api_routes()
    assert ("GET", "/api/status") in routes and ("POST", "/api/casework/problems") in routes
    rows = [
        line
        for name in ("api.md", "dashboard.md")
        for line in (DOCS / "guide" / name).read_text().splitlines()
        if line.startswith("|")
    ]
    missing = []
    for method, path in routes:
        if not any(f"`{path}`" in r and method in r.split("|")[1] for r in rows):
            missing.append(f"{method} {path}")
    assert not missing, f"API routes missing from docs/guide/api.md's tables: {missing}"


def test_every_documented_api_route_exists() -> None:
    """The reverse: no row of docs/guide/api.md names a route the app does not serve."""
    routes = set(_api_routes())
    row = re.compile(r"^\| ([A-Z, ]+) \| `(/[^`]*)` \|")
    listed = [
        (method.strip(), m.group(2))
        for line in (DOCS / "guide" / "api.md").read_text().splitlines()
        if (m := row.match(line))
        for method in m.group(1).split(",")
    ]
    assert len(listed) >= len(routes) > 50
    stale = [f"{method} {path}" for method, path in listed if (method, path) not in routes]
    assert not stale, f"docs/guide/api.md lists routes the app does not serve: {stale}"


# --- doctests --------------------------------------------------------------------------------


def _modules() -> list[str]:
    # Alembic's env.py runs a migration when imported; it has no examples.
    return sorted(
        m.name
        for m in pkgutil.walk_packages(peelian.__path__, prefix="peelian.")
        if ".migrations" not in m.name
    )


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out: list[str] = []
    for test in finder.find(module, name):
        runner.run(test, out=out.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(out)


def test_doctests_are_found() -> None:
    """The doctest run above is not empty: known examples are collected and pass."""
    from peelian.schemas import formatting

    tests = [t for t in doctest.DocTestFinder().find(formatting) if t.examples]
    assert sum(len(t.examples) for t in tests) >= 5
    broken = doctest.DocTestParser().get_doctest(">>> 1 + 1\n3\n", {}, "broken", None, 0)
    runner = doctest.DocTestRunner()
    runner.run(broken, out=lambda _: None)
    assert runner.summarize(verbose=False).failed == 1


# --- links and authorship --------------------------------------------------------------------

_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _anchors(page: Path) -> set[str]:
    """GitHub-style anchors of the headings of ``page``."""
    out = set()
    for line in _FENCE.sub("", page.read_text()).splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
            out.add(slug)
    return out


def _broken_links(pages: list[Path]) -> list[str]:
    broken = []
    for page in pages:
        text = _FENCE.sub("", page.read_text())
        for target in _LINK.findall(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{page.name}: {target} (no such heading)")
    return broken


def test_no_broken_links_in_docs() -> None:
    assert not _broken_links(_doc_pages())


def test_link_check_finds_broken_links(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## The JSON API\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md) [ok](other.md#the-json-api) [web](https://example.org/x)\n"
        "[gone](missing.md) [bad anchor](other.md#nowhere) [self](#top)\n"
        "```\n[in code](ignored.md)\n```\n# Top\n"
    )
    assert _broken_links([page]) == [
        "page.md: missing.md",
        "page.md: other.md#nowhere (no such heading)",
    ]


_AUTHORSHIP = re.compile(
    r"\b(?i:engineer|helper|agent|session)\s+[A-Z0-9]\b"
    r"|\b(?i:written by|Claude|another helper|another engineer|other engineers)\b"
)


def test_no_doc_or_docstring_says_who_wrote_what() -> None:
    files = [
        *_doc_pages(),
        *(p for p in (ROOT / "src").rglob("*") if p.suffix in {".py", ".md", ".yaml", ".html"}),
    ]
    hits = []
    for path in files:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if _AUTHORSHIP.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not hits, "authorship notes (say what the code does, not who wrote it):\n" + "\n".join(
        hits
    )


def test_no_code_catches_importerror_of_its_own_package() -> None:
    pattern = re.compile(r"except\s+\(?\s*(?:ImportError|ModuleNotFoundError)")
    hits = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in (ROOT / "src" / "peelian").rglob("*.py")
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not hits, f"try/except ImportError around a hard dependency or our own package: {hits}"


# --- index -----------------------------------------------------------------------------------


def test_every_guide_page_is_linked_from_the_index() -> None:
    index = (DOCS / "index.md").read_text()
    pages = sorted(p.name for p in (DOCS / "guide").glob("*.md"))
    assert pages, "docs/guide/ has no pages"
    unlinked = [p for p in pages if f"guide/{p}" not in index]
    assert not unlinked, f"docs/index.md does not link: {unlinked}"
    assert "(architecture.md)" in index
