"""Typed settings, built by a factory (never at import time).

Settings come from environment variables prefixed ``PEELIAN_`` (and a ``.env`` file if present):

- ``PEELIAN_DATA_DIR``: where the SQLite store, downloads cache, exports and the generated
  secret live (default ``./.peelian``).
- ``PEELIAN_DATABASE_URL``: a SQLAlchemy URL; default ``sqlite:///<data_dir>/peelian.sqlite``.
  PostgreSQL URLs (``postgresql://user@host/db``) use psycopg 3.
- ``PEELIAN_SECRET_KEY``: signs session cookies and CSRF tokens. When it is not given, a random
  per-installation secret is generated once and kept in ``<data_dir>/secret_key`` (mode 0600).
  The old development placeholder and any secret under 32 bytes are refused unless the app runs
  in development (or test) on a loopback address.
- ``PEELIAN_ENV``: ``development`` (default), ``test`` or ``production``.
- ``PEELIAN_HOST`` / ``PEELIAN_PORT``: where ``peelian serve`` listens (default 127.0.0.1:8000).
- ``PEELIAN_SECURE_COOKIES``: force the ``Secure`` cookie flag on or off; by default it is on
  everywhere except development/test bound to a loopback address.
- ``PEELIAN_HSTS``: send ``Strict-Transport-Security`` (enable once the site is served over HTTPS).
- ``PEELIAN_TRUSTED_PROXIES``: comma-separated addresses or networks of reverse proxies whose
  ``X-Forwarded-For`` is believed (empty by default: the peer address is used).
- ``PEELIAN_SESSION_IDLE_MINUTES``: a session ends after this much inactivity (default 30).
- ``PEELIAN_LOGIN_CONCURRENCY``: password checks run at once at most (default half the cores,
  at least 1); a few more wait briefly, the rest are refused with 503 before any hashing.
- ``PEELIAN_TILE_URL``: optional base-map tile URL template for the dashboard maps.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from peelian.errors import ConfigError

__all__ = [
    "MIN_SECRET_BYTES",
    "PLACEHOLDER_SECRET",
    "SECRET_FILE",
    "Settings",
    "get_settings",
    "installation_secret",
    "is_loopback",
    "normalise_database_url",
]

log = logging.getLogger(__name__)

#: The development placeholder of earlier versions; refused outside loopback development.
PLACEHOLDER_SECRET = "change-me-development-only"
#: Shortest secret accepted outside loopback development (ASVS 6.2: 128 bits and more).
MIN_SECRET_BYTES = 32
#: The file in the data directory holding the generated per-installation secret.
SECRET_FILE = "secret_key"

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """True if ``host`` (a name or address) only accepts connections from this machine."""
    host = (host or "").strip().strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """peelian's settings. Build with :func:`get_settings` or directly for tests."""

    model_config = SettingsConfigDict(env_prefix="PEELIAN_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Field(default=Path(".peelian"))
    database_url: str | None = None
    secret_key: str | None = None
    tile_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    secure_cookies: bool | None = None
    hsts: bool = False
    trusted_proxies: str = ""
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    login_concurrency: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) // 2), ge=1, le=64
    )
    #: Person-derived counts from 1 to this - 1 below force level are shown as "<N" to roles
    #: without person-level access (statistical disclosure control; peelian.web.services.disclosure).
    small_count_threshold: int = Field(default=5, ge=1, le=100)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'peelian.sqlite').resolve()}"

    @property
    def loopback_development(self) -> bool:
        """True for development or test bound to a loopback address (nobody else can connect)."""
        return self.env in ("development", "test") and is_loopback(self.host)

    @property
    def cookies_secure(self) -> bool:
        """Whether cookies carry ``Secure``: the setting if given, else everywhere except
        loopback development (decided by the deployment, never by the request's Host header)."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return not self.loopback_development

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The networks of ``PEELIAN_TRUSTED_PROXIES``; :class:`ConfigError` for a bad entry."""
        nets = []
        for part in self.trusted_proxies.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                nets.append(ipaddress.ip_network(part, strict=False))
            except ValueError as exc:
                raise ConfigError(
                    f"PEELIAN_TRUSTED_PROXIES has {part!r}, which is not an address or network.",
                    "List the reverse proxies' addresses, e.g. `10.0.0.5,10.1.0.0/16`.",
                ) from exc
        return tuple(nets)

    def with_secret(self) -> Settings:
        """These settings with a secret: the given one, or the installation's generated one
        (created in the data directory on first use). Checks it (:meth:`check_secrets`)."""
        settings = self
        if not self.secret_key:
            settings = self.model_copy(update={"secret_key": installation_secret(self.data_dir)})
        settings.check_secrets()
        return settings

    def check_secrets(self) -> None:
        """Refuse a weak secret (the old placeholder, or under 32 bytes) unless this is
        development or test bound to loopback; refuse a bad trusted-proxy list."""
        self.trusted_proxy_networks  # noqa: B018 - validates the setting
        secret = self.secret_key
        if secret is None:
            return  # with_secret() generates one
        weak = secret == PLACEHOLDER_SECRET or len(secret.encode()) < MIN_SECRET_BYTES
        if weak and not self.loopback_development:
            what = (
                "the development placeholder"
                if secret == PLACEHOLDER_SECRET
                else f"only {len(secret.encode())} bytes long"
            )
            raise ConfigError(
                f"PEELIAN_SECRET_KEY is {what}, and the app would run as {self.env} on "
                f"{self.host}: anyone who knows or guesses it could forge sessions.",
                "Unset PEELIAN_SECRET_KEY to use the random secret kept in the data directory, "
                "or set it to at least 32 random bytes, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`.",
            )


def installation_secret(data_dir: Path) -> str:
    """The random secret of this installation, kept in ``<data_dir>/secret_key`` (mode 0600);
    generated with :func:`secrets.token_urlsafe` (48 bytes) the first time."""
    path = Path(data_dir) / SECRET_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _create_secret_file(path)
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        secret = path.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise ConfigError(
            f"Cannot read or create the secret file {path}: {exc.strerror or exc}.",
            "Make the data directory (PEELIAN_DATA_DIR) writable by this user, or set "
            "PEELIAN_SECRET_KEY to at least 32 random bytes.",
        ) from exc
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"The secret file {path} holds under {MIN_SECRET_BYTES} bytes.",
            "Delete it (a new one is generated; everyone logs in again) or set PEELIAN_SECRET_KEY.",
        )
    return secret


def _create_secret_file(path: Path) -> None:
    """Write a new secret atomically: a private temporary file linked into place, so two
    processes starting together agree on one secret and no reader sees a half-written file."""
    tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
            log.info("generated a new secret in %s", path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def normalise_database_url(url: str) -> str:
    """Map ``postgres://`` and ``postgresql://`` to the psycopg 3 driver; leave others as they are."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
