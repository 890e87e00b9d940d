"""Dashboard users, login attempts (for rate limiting) and the audit log.

Passwords are stored only as argon2id hashes (:mod:`peelian.data.users`). Sessions are signed
cookies (no session table): a session names its user, and every request re-checks that the user
still exists and is enabled.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, String, Table, Text

from peelian.data.tables._meta import ID, metadata

__all__ = ["audit_log", "login_attempts", "users"]

users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False, comment="argon2id (argon2-cffi)"),
    Column("role", String(16), nullable=False, comment="admin | analyst | viewer"),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("last_login_at", DateTime(timezone=False), nullable=True, comment="UTC"),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("success", Boolean, nullable=False),
    Index("ix_login_attempts_username_ip_at", "username", "ip", "at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("username", String(64), nullable=True, comment="who acted (null = the CLI/system)"),
    Column("action", String(64), nullable=False, comment="e.g. user.add, login, report.download"),
    Column("target", String(128), nullable=True),
    Column("ip", String(64), nullable=True),
    Column("detail", JSON, nullable=True),
    Index("ix_audit_log_at", "at"),
)
