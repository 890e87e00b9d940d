"""Schemathesis over the OpenAPI schema against the real app (in-process ASGI, the seeded store of
``web_seed``), as each role and anonymously (issue 13 item 7; issue 14 item 10).

Every operation in ``/openapi.json`` gets schema-valid requests (a fixed number per operation,
derandomised, so runs repeat exactly) and every default check applies: no 5xx, every status,
content type and header documented, bodies conform to their schemas, schema-valid data accepted.
One rule the schema cannot express is allowed: a month range whose ``month_from`` is after its
``month_to`` is refused with a 422 that says so (:func:`peelian.schemas.months`). Anonymous
requests must never succeed.

Slow-ish (about a minute per role on a quiet machine): marked ``slow``. SQLite only - the
contract is the web layer's, the store suite covers both dialects.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_seed import PASSWORD, seed_all

pytestmark = pytest.mark.slow

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.python.asgi import get_client  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

#: Examples per operation; operations that build a whole report get fewer.
EXAMPLES = 20
SLOW_OPERATIONS = {"GET /api/reports/ncpm": 3}
REVERSED_RANGE = "The month range is reversed"
#: The rules a schema cannot state, each answered with a documented 422: a month range given
#: backwards, and a Victims' Code trigger outside the bank-holiday calendar's years.
CROSS_RULES = (REVERSED_RANGE, "Bank holidays are known for the years")


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from peelian.config import Settings
    from peelian.data.accounts.users import add_user
    from peelian.data.store import open_store
    from peelian.web import create_app

    tmp = tmp_path_factory.mktemp("fuzz")
    store = open_store(f"sqlite:///{tmp / 'store.sqlite'}")
    seed_all(store)
    for role in ("admin", "analyst", "viewer"):
        add_user(store, role + "1", PASSWORD, role)
    settings_ = Settings(data_dir=Path(tmp), env="test", secret_key="test-secret-" + "x" * 32)
    yield create_app(settings_, store=store)
    store.dispose()


def _client(app: Any, username: str | None) -> Any:
    client = get_client(app)
    if username:
        base = client.base_url
        client.get(base + "/login")
        res = client.post(
            base + "/login",
            data={
                "username": username,
                "password": PASSWORD,
                "csrf_token": client.cookies.get("peelian_csrf"),
                "next": "/",
            },
            allow_redirects=False,
        )
        assert res.status_code == 303, res.text
    return client


def _fuzz(app: Any, username: str | None) -> list[str]:
    """Run every operation; the failures found, one line each (operation: what)."""
    client = _client(app, username)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        examples = SLOW_OPERATIONS.get(operation.label, EXAMPLES if username else 5)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call_and_validate(
                session=client, excluded_checks=[positive_data_acceptance]
            )
            status = response.status_code
            if username is None:
                assert status in (401, 403), f"anonymous got {status}"
            elif status == 422:
                # Schema-valid data is accepted, but for the rules a schema cannot state.
                assert any(rule in response.text for rule in CROSS_RULES), response.text[:300]

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collected, reported together
            failures.append(f"{operation.label}: {str(exc)[:800]}")
    return failures


@pytest.mark.parametrize("role", ["viewer", "analyst", "admin"])
def test_fuzz_each_role_finds_no_failure(fuzz_app: Any, role: str) -> None:
    failures = _fuzz(fuzz_app, role + "1")
    assert not failures, "\n\n".join(failures)


def test_fuzz_anonymous_never_succeeds(fuzz_app: Any) -> None:
    failures = _fuzz(fuzz_app, None)
    assert not failures, "\n\n".join(failures)
