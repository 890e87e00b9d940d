"""Web fixtures: a seeded store, an app on it, and logged-in clients per role."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_seed import PASSWORD, login, seed_all

from peelian.config import Settings
from peelian.data.accounts.users import add_user
from peelian.web import create_app


@pytest.fixture
def seeded(store) -> dict[str, Any]:
    info = seed_all(store)
    for role in ("admin", "analyst", "viewer"):
        add_user(store, role + "1", PASSWORD, role)
    return info


@pytest.fixture
def app(store, seeded, tmp_path):
    settings = Settings(data_dir=tmp_path, env="test", secret_key="test-secret-" + "x" * 32)
    return create_app(settings, store=store)


def _client(app, username: str | None) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        if username:
            assert login(c, username).status_code == 303
        yield c


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    yield from _client(app, None)


@pytest.fixture
def viewer(app) -> Iterator[TestClient]:
    yield from _client(app, "viewer1")


@pytest.fixture
def analyst(app) -> Iterator[TestClient]:
    yield from _client(app, "analyst1")


@pytest.fixture
def admin(app) -> Iterator[TestClient]:
    yield from _client(app, "admin1")
