"""One error shape across every endpoint; sessions, CSRF, rate limiting and roles."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from web_seed import PASSWORD, login

from peelian.config import PLACEHOLDER_SECRET, Settings
from peelian.errors import ConfigError
from peelian.web import create_app

SAMPLE = {
    "code": "E05001101",
    "kind": "gistar",
    "fmt": "csv",
    "measure": "homicide",
    "batch_id": "1",
    "level": "ward",
    "name": "x",
    "username": "viewer1",
    "problem_id": "1",
}


def _sample(name: str) -> str:
    """A value for a path parameter: any record id is 1; other names need a SAMPLE entry."""
    if name in SAMPLE:
        return SAMPLE[name]
    assert name.endswith("_id"), f"add a sample value for the path parameter {name!r}"
    return "1"


def _get_routes(app) -> list[str]:
    """Every GET endpoint in the OpenAPI schema (the API and each page's JSON), filled in."""
    paths = []
    for path, ops in app.openapi()["paths"].items():
        if "get" in ops:
            paths.append(re.sub(r"{(\w+)}", lambda m: _sample(m.group(1)), path))
    return sorted(paths)


def _is_error(body: dict, code: str) -> None:
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "hint"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]


def test_every_endpoint_needs_a_login_and_says_so_in_the_error_shape(app, client) -> None:
    paths = _get_routes(app)
    assert len(paths) >= 25, paths
    for path in paths:
        r = client.get(path)
        assert r.status_code == 401, (path, r.status_code)
        _is_error(r.json(), "unauthenticated")


def test_error_shape_for_404_422_403_and_500(app, viewer, monkeypatch) -> None:
    _is_error(viewer.get("/api/nothing-here").json(), "not_found")
    assert viewer.get("/api/nothing-here").status_code == 404
    r = viewer.get("/api/areas/E99999999")
    assert r.status_code == 404 and "E99999999" in r.json()["error"]["message"]
    _is_error(r.json(), "not_found")
    r = viewer.get("/api/batches/999")
    assert r.status_code == 404 and r.json()["error"]["hint"]
    for bad in (
        "/api/batches?limit=5000",
        "/api/events/counts?by=weekday",
        "/api/events/counts?month_from=2021-13",
        "/api/areas?level=county",
        "/api/hotspots/lisa",
        "/api/batches/abc",
        "/api/measures?limit=0",
    ):
        r = viewer.get(bad)
        assert r.status_code == 422, (bad, r.status_code, r.text[:200])
        _is_error(r.json(), "invalid_parameter")
    r = viewer.get("/api/exports/gistar.csv")
    assert r.status_code == 403
    _is_error(r.json(), "forbidden")
    r = viewer.post("/api/status")
    assert r.status_code == 405
    _is_error(r.json(), "method_not_allowed")

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("peelian.web.services.status.batches", boom)
    r = viewer.get("/api/batches")
    assert r.status_code == 500
    _is_error(r.json(), "internal_error")
    assert "disk on fire" not in r.text  # no internals leak to the client


def test_empty_store_says_which_command_computes_each_result(store, tmp_path) -> None:
    from peelian.data.accounts.users import add_user

    add_user(store, "viewer1", PASSWORD, "viewer")
    app = create_app(Settings(data_dir=tmp_path, env="test", secret_key="s" * 40), store=store)
    with TestClient(app) as c:
        login(c, "viewer1")
        r = c.get("/api/measures")
        assert r.status_code == 404
        assert "peelian measures --save" in r.json()["error"]["hint"]
        page = c.get("/", headers={"accept": "text/html"}).text
        assert "not computed yet" in page and "peelian measures --save" in page
        assert "peelian ingest policeuk" in page
        for path in ("/measures", "/map", "/hotspots", "/forecasts", "/data", "/reports"):
            r = c.get(path, headers={"accept": "text/html"})
            assert r.status_code == 200, (path, r.text[:500])
        assert c.get("/api/status").json()["events"] == 0


def test_pages_redirect_to_login_and_back(client) -> None:
    r = client.get(
        "/measures?area=E08000021", headers={"accept": "text/html"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fmeasures%3Farea%3DE08000021"
    client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": "viewer1",
            "password": PASSWORD,
            "csrf_token": client.cookies.get("peelian_csrf"),
            "next": "/measures?area=E08000021",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/measures?area=E08000021"
    cookie = r.headers.get_list("set-cookie")
    session = next(c for c in cookie if c.startswith("peelian_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Secure" not in session
    # an open redirect to another site is refused
    r = client.post(
        "/login",
        data={
            "username": "viewer1",
            "password": PASSWORD,
            "csrf_token": client.cookies.get("peelian_csrf"),
            "next": "//evil.example",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"


def test_session_cookie_secure_flag_comes_from_the_deployment(store, seeded, tmp_path) -> None:
    # loopback development over https: the Host/scheme of the request does not decide
    local = create_app(Settings(data_dir=tmp_path, env="test", secret_key="s" * 40), store=store)
    deployed = create_app(
        Settings(data_dir=tmp_path, env="production", host="0.0.0.0", secret_key="s" * 40),
        store=store,
    )
    for app, secure in ((local, False), (deployed, True)):
        with TestClient(app, base_url="https://dashboard.force.example") as c:
            r = login(c, "viewer1")
            session = next(x for x in r.headers.get_list("set-cookie") if "peelian_session" in x)
            assert ("Secure" in session) is secure


def test_login_needs_the_csrf_token(client) -> None:
    client.get("/login")
    r = client.post(
        "/login",
        data={"username": "viewer1", "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    r = client.post(
        "/login",
        data={"username": "viewer1", "password": PASSWORD},
        headers={"accept": "application/json"},
        follow_redirects=False,
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"


def test_wrong_password_then_rate_limit(client, monkeypatch) -> None:
    from peelian.data.accounts import login_throttle

    monkeypatch.setattr(login_throttle, "ACCOUNT", login_throttle.Backoff(5, 60.0, 900.0))
    for _ in range(5):
        r = login(client, "viewer1", "wrong password!")
        assert r.status_code == 401 and "not right" in r.text
    r = login(client, "viewer1", PASSWORD)  # within the backoff delay even the right one waits
    assert r.status_code == 429 and "Too many failed logins" in r.text
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert login(client, "analyst1").status_code == 303  # other users are not affected


def test_tampered_or_foreign_session_is_rejected(app, client) -> None:
    client.cookies.set("peelian_session", "eyJ1IjoiYWRtaW4xIn0.forged.signature")
    assert client.get("/api/status").status_code == 401
    from itsdangerous import URLSafeTimedSerializer

    other = URLSafeTimedSerializer("another-secret", salt="peelian.session").dumps({"u": "admin1"})
    client.cookies.set("peelian_session", other)
    assert client.get("/api/status").status_code == 401


def test_logout_ends_the_session(viewer) -> None:
    assert viewer.get("/api/status").status_code == 200
    r = viewer.post(
        "/logout", data={"csrf_token": viewer.cookies.get("peelian_csrf")}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert viewer.get("/api/status").status_code == 401


def test_roles_admin_pages_and_user_management(app, viewer, analyst, admin) -> None:
    assert viewer.get("/admin/users.json").status_code == 403
    assert analyst.get("/admin/users.json").status_code == 403
    users = admin.get("/admin/users.json").json()["users"]
    assert [u["username"] for u in users] == ["admin1", "analyst1", "viewer1"]
    token = admin.cookies.get("peelian_csrf")
    r = admin.post(
        "/admin/users",
        data={
            "username": "pcc.office",
            "password": PASSWORD,
            "role": "viewer",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and "Added" in r.headers["location"]
    r = analyst.post(
        "/admin/users",
        data={
            "username": "sneaky",
            "password": PASSWORD,
            "role": "admin",
            "csrf_token": analyst.cookies.get("peelian_csrf"),
        },
    )
    assert r.status_code == 403
    # removing a user ends their session
    r = admin.post(
        "/admin/users/viewer1/remove", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    app.state.ctx.forget_user("viewer1")
    assert viewer.get("/api/status").status_code == 401
    audit = admin.get("/admin/users.json").json()["audit"]
    assert [a["action"] for a in audit[:3]] == ["user.remove", "forbidden", "user.add"]
    assert audit[0]["username"] == "admin1" and audit[0]["target"] == "viewer1"
    assert audit[1]["username"] == "analyst1" and audit[1]["target"] == "POST /admin/users"


def test_placeholder_secret_is_refused_in_production(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, env="production", secret_key=PLACEHOLDER_SECRET)
    with pytest.raises(ConfigError, match="PEELIAN_SECRET_KEY"):
        create_app(settings)
