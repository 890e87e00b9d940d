"""Typed settings, built by a factory (never at import time).

Settings come from environment variables prefixed ``PEELIAN_`` (and a ``.env`` file if present):

- ``PEELIAN_DATA_DIR``: where the SQLite store, downloads cache and exports live
  (default ``./.peelian``).
- ``PEELIAN_DATABASE_URL``: a SQLAlchemy URL; default ``sqlite:///<data_dir>/peelian.sqlite``.
  PostgreSQL URLs (``postgresql://user@host/db``) use psycopg 3.
- ``PEELIAN_SECRET_KEY``: signs session cookies; a placeholder is refused outside development.
- ``PEELIAN_ENV``: ``development`` (default) or ``production``.
- ``PEELIAN_TILE_URL``: optional base-map tile URL template for the dashboard maps.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from peelian.errors import ConfigError

__all__ = ["PLACEHOLDER_SECRET", "Settings", "get_settings", "normalise_database_url"]

PLACEHOLDER_SECRET = "change-me-development-only"


class Settings(BaseSettings):
    """peelian's settings. Build with :func:`get_settings` or directly for tests."""

    model_config = SettingsConfigDict(env_prefix="PEELIAN_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Field(default=Path(".peelian"))
    database_url: str | None = None
    secret_key: str = PLACEHOLDER_SECRET
    tile_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'peelian.sqlite').resolve()}"

    def check_secrets(self) -> None:
        """Refuse the placeholder secret outside development and tests."""
        if self.env == "production" and self.secret_key == PLACEHOLDER_SECRET:
            raise ConfigError(
                "PEELIAN_SECRET_KEY is the development placeholder but PEELIAN_ENV=production.",
                "Set PEELIAN_SECRET_KEY to a long random value, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`.",
            )


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
