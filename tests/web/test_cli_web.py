"""`peelian users`, `peelian report ncpm` and `peelian serve` (the parts that can run in-process)."""

from __future__ import annotations

import json

from typer.testing import CliRunner
from web_seed import seed_all

from peelian.cli import app
from peelian.data.accounts.users import verify_user

runner = CliRunner()


def test_users_add_list_remove(store, db_url) -> None:
    r = runner.invoke(
        app,
        [
            "users",
            "add",
            "insp.jones",
            "--role",
            "analyst",
            "--password-stdin",
            "--db",
            db_url,
            "--json",
        ],
        input="a long passphrase\n",
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == {"username": "insp.jones", "role": "analyst"}
    assert verify_user(store, "insp.jones", "a long passphrase").role == "analyst"
    r = runner.invoke(
        app,
        ["users", "add", "xy", "--role", "boss", "--password-stdin", "--db", db_url],
        input="a long passphrase\n",
    )
    assert r.exit_code == 2 and "role must be one of" in r.output
    r = runner.invoke(app, ["users", "list", "--db", db_url, "--json"])
    assert [u["username"] for u in json.loads(r.output)["users"]] == ["insp.jones"]
    r = runner.invoke(app, ["users", "remove", "insp.jones", "--db", db_url])
    assert r.exit_code == 0
    r = runner.invoke(app, ["users", "remove", "insp.jones", "--db", db_url])
    assert r.exit_code == 6 and "no user named" in r.output


def test_report_ncpm_writes_pdf_and_html(store, db_url, tmp_path) -> None:
    seed_all(store)
    out = tmp_path / "ncpm.pdf"
    r = runner.invoke(
        app,
        ["report", "ncpm", "--period-end", "2021-12", "--out", str(out), "--db", db_url, "--json"],
    )
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert info["period_end"] == "2021-12" and len(info["sections"]) == 6
    assert info["sections"][1]["measures"] == ["knife-flagged-offences"]
    assert out.read_bytes().startswith(b"%PDF-")
    html = tmp_path / "ncpm.html"
    r = runner.invoke(app, ["report", "ncpm", "--out", str(html), "--db", db_url])
    assert r.exit_code == 0 and "6 sections" in r.output
    assert "Reduce homicides" in html.read_text()
    r = runner.invoke(app, ["report", "ncpm", "--out", str(tmp_path / "x.docx"), "--db", db_url])
    assert r.exit_code == 2 and ".pdf or .html" in r.output
    r = runner.invoke(
        app, ["report", "ncpm", "--period-end", "2021-13", "--out", str(out), "--db", db_url]
    )
    assert r.exit_code == 2 and "YYYY-MM" in r.output


def test_report_without_measures_says_what_to_run(store, db_url, tmp_path) -> None:
    r = runner.invoke(app, ["report", "ncpm", "--out", str(tmp_path / "r.pdf"), "--db", db_url])
    assert r.exit_code == 6 and "measures" in r.output
    assert "Traceback" not in r.output


def test_serve_refuses_a_weak_secret_in_production(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PEELIAN_ENV", "production")
    monkeypatch.setenv("PEELIAN_SECRET_KEY", "too-short-a-secret")
    monkeypatch.setenv("PEELIAN_DATA_DIR", str(tmp_path))
    from peelian.config import get_settings

    get_settings.cache_clear()
    try:
        r = runner.invoke(app, ["serve", "--db", f"sqlite:///{tmp_path}/s.sqlite"])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 2 and "PEELIAN_SECRET_KEY is only 18 bytes long" in r.output
