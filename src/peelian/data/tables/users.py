"""Dashboard users, login attempts (for rate limiting) and the audit log.

Passwords are stored only as argon2id hashes (:mod:`peelian.data.accounts.users`). Sessions are kept
server-side in ``sessions``: the cookie carries a random token and the table only its SHA-256, so
a copy of the database cannot be replayed as cookies; a session can be revoked (logout, password
change, disabling or removing the user) and expires after idleness and after 12 hours.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Index, String, Table, Text

from peelian.data.tables._meta import ID, metadata

__all__ = ["audit_log", "login_attempts", "sessions", "users"]

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
    Column(
        "organisation_id",
        ID,
        ForeignKey("organisations.id", ondelete="SET NULL"),
        nullable=True,
        comment="the user's organisation (peelian.casework)",
    ),
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
    Index("ix_login_attempts_ip_at", "ip", "at"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True, comment="SHA-256 of the token"),
    Column("username", String(64), nullable=False),
    Column("created_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("last_seen_at", DateTime(timezone=False), nullable=False, comment="UTC, per minute"),
    Column("expires_at", DateTime(timezone=False), nullable=False, comment="UTC, absolute"),
    Column("revoked_at", DateTime(timezone=False), nullable=True, comment="UTC"),
    Column("revoked_reason", String(32), nullable=True, comment="logout | password | ..."),
    Column("ip", String(64), nullable=True, comment="address at login"),
    Index("ix_sessions_username", "username"),
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
    Column("record_kind", String(32), nullable=True, comment="e.g. problem, referral"),
    Column("record_id", String(64), nullable=True),
    Column("purpose", Text, nullable=True, comment="the reason the user gave"),
    Column("prev_hash", String(64), nullable=False, comment="hash of the previous entry"),
    Column("hash", String(64), nullable=False, comment="SHA-256 (peelian.data.audit)"),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_record_kind_record_id", "record_kind", "record_id"),
    Index("ix_audit_log_username_at", "username", "at"),
)
