"""What every request shares: settings, the store, and in-memory caches of persisted results.

Heavy work runs as jobs and persists results (STYLE practice 20); the web app only reads them.
Parsed result frames are cached per run id (a run never changes once saved), and derived frames
(event aggregates, area boundaries as GeoJSON) per *data version* - the newest ingest batch and
analysis run ids - which is re-checked at most every ``VERSION_TTL`` seconds. Every cache here is
bounded: runs and derived values by count (least recently used evicted), response bodies by count
and bytes (:class:`~peelian.web.api._cache.ResponseCache`, keyed on validated parameters).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from peelian.config import Settings
from peelian.data.results import ResultRun, load_result
from peelian.data.store import Store
from peelian.data.tables import analysis_runs, areas, ingest_batches, users
from peelian.errors import NotFoundError
from peelian.web.api._cache import ResponseCache

__all__ = ["VERSION_TTL", "WebContext"]

#: Seconds between checks of the data version (new batches or runs show up within this time).
VERSION_TTL = 2.0


@dataclass
class WebContext:
    """Settings, store and caches of one running app (``request.app.state.ctx``)."""

    settings: Settings
    store: Store
    max_cached_runs: int = 32
    max_derived: int = 256
    _runs: OrderedDict[int, ResultRun] = field(default_factory=OrderedDict)
    _derived: OrderedDict[Hashable, tuple[Any, Any]] = field(default_factory=OrderedDict)
    _latest: dict[tuple[str, str | None], tuple[float, int | None]] = field(default_factory=dict)
    _version: tuple[float, tuple[Any, ...]] = (0.0, ())
    _users: dict[str, tuple[float, Any]] = field(default_factory=dict)
    #: The one cache of response bodies (API and page data), bounded by entries and bytes.
    responses: ResponseCache = field(default_factory=ResponseCache)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # -- data version -----------------------------------------------------------------------
    def data_version(self) -> tuple[Any, ...]:
        """(newest batch id, newest run id, number of areas): changes when new data lands."""
        now = time.monotonic()
        checked, version = self._version
        if now - checked < VERSION_TTL and version:
            return version
        with self.store.engine.connect() as conn:
            version = (
                conn.execute(select(func.max(ingest_batches.c.id))).scalar(),
                conn.execute(select(func.max(analysis_runs.c.id))).scalar(),
                conn.execute(select(func.count()).select_from(areas)).scalar(),
            )
        self._version = (now, version)
        return version

    def derived(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """A value computed by ``build()`` once per data version (e.g. event aggregates); at
        most ``max_derived`` values are kept (least recently used evicted)."""
        version = self.data_version()
        hit = self._derived.get(key)
        if hit is not None and hit[0] == version:
            self._touch(key)
            return hit[1]
        with self._lock:
            hit = self._derived.get(key)
            if hit is not None and hit[0] == version:
                return hit[1]
            value = build()
            self._derived[key] = (version, value)
            self._derived.move_to_end(key)
            while len(self._derived) > self.max_derived:
                self._derived.popitem(last=False)
            return value

    def _touch(self, key: Hashable) -> None:
        with self._lock:
            if key in self._derived:
                self._derived.move_to_end(key)

    def cached_response(self, key: Hashable, version: Any = None) -> Any:
        """A cached response body (or page data) for ``key`` built for the current data
        version, from the one bounded :attr:`responses` cache."""
        return self.responses.get(key, self.data_version() if version is None else version)

    def store_response(self, key: Hashable, version: Any, body: Any) -> None:
        """Keep a response body or page data in :attr:`responses` (bounded, LRU)."""
        self.responses.put(key, version, body)

    def warm(self) -> None:
        """Build the expensive caches (event aggregates, status, boundaries) ahead of users."""
        from peelian.web.services import areas, events, status

        for step in (
            lambda: status.data_status(self),
            lambda: events.event_base(self),
            lambda: areas.area_geojson(self, "csp"),
            lambda: areas.area_geojson(self, "ward"),
        ):
            try:
                step()
            except Exception:  # warming is best effort; the request will report any error
                return

    # -- results ----------------------------------------------------------------------------
    def latest_run_id(self, kind: str, name: str | None = None) -> int | None:
        """The id of the newest run of a kind (and name), or None."""
        now = time.monotonic()
        hit = self._latest.get((kind, name))
        if hit is not None and now - hit[0] < VERSION_TTL:
            return hit[1]
        q = select(analysis_runs.c.id).where(analysis_runs.c.kind == kind)
        if name is not None:
            q = q.where(analysis_runs.c.name == name)
        q = q.order_by(analysis_runs.c.created_at.desc(), analysis_runs.c.id.desc()).limit(1)
        with self.store.engine.connect() as conn:
            run_id = conn.execute(q).scalar()
        run_id = None if run_id is None else int(run_id)
        self._latest[(kind, name)] = (now, run_id)
        return run_id

    def run(self, run_id: int) -> ResultRun:
        """A run with all its frames, parsed once and kept (least recently used evicted)."""
        with self._lock:
            if run_id in self._runs:
                self._runs.move_to_end(run_id)
                return self._runs[run_id]
        run = load_result(self.store, run_id)
        with self._lock:
            self._runs[run_id] = run
            while len(self._runs) > self.max_cached_runs:
                self._runs.popitem(last=False)
        return run

    def latest(self, kind: str, name: str | None = None) -> ResultRun:
        """The newest run of a kind (and name); :class:`NotFoundError` saying which command
        computes it if there is none."""
        run_id = self.latest_run_id(kind, name)
        if run_id is None:
            what = f"{kind!r}" + (f" named {name!r}" if name else "")
            raise NotFoundError(
                f"No {what} results have been computed yet.",
                f"Compute them with `{command_for(kind)}` (or build everything with "
                "`peelian demo`).",
            )
        return self.run(run_id)

    def maybe_latest(self, kind: str, name: str | None = None) -> ResultRun | None:
        """The newest run, or None if that kind has not been computed."""
        run_id = self.latest_run_id(kind, name)
        return None if run_id is None else self.run(run_id)

    def run_names(self, kind: str) -> list[str]:
        """The names that have runs of ``kind``, alphabetically."""

        def build() -> list[str]:
            q = select(analysis_runs.c.name).where(analysis_runs.c.kind == kind).distinct()
            with self.store.engine.connect() as conn:
                return sorted(conn.execute(q).scalars().all())

        return list(self.derived(("run_names", kind), build))

    # -- users ------------------------------------------------------------------------------
    def user_row(self, username: str) -> Any:
        """(role, enabled) of a user, cached for ``VERSION_TTL`` seconds; None if removed."""
        now = time.monotonic()
        hit = self._users.get(username)
        if hit is not None and now - hit[0] < VERSION_TTL:
            return hit[1]
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(users.c.username, users.c.role, users.c.enabled).where(
                    users.c.username == username
                )
            ).first()
        self._users[username] = (now, row)
        return row

    def forget_user(self, username: str) -> None:
        self._users.pop(username, None)


#: The command that computes each result kind (shown in empty states and 404 hints).
COMMANDS: dict[str, str] = {
    "measures": "peelian measures --save",
    "gistar": "peelian hotspots gistar --crime-type violence-and-sexual-offences --save",
    "emerging": "peelian hotspots emerging --crime-type violence-and-sexual-offences --save",
    "kde": "peelian hotspots kde --crime-type violence-and-sexual-offences --save",
    "concentration": (
        "peelian hotspots concentration --crime-type violence-and-sexual-offences --save"
    ),
    "backtest": "peelian forecast backtest",
    "forecast": "peelian forecast predict",
    "grip_plan": "peelian grip plan",
    "events": "peelian ingest policeuk PATH",
    "areas": "peelian areas load",
}


def command_for(kind: str) -> str:
    """The CLI command that computes a result kind."""
    return COMMANDS.get(kind, "peelian demo")
