"""Who sees small counts of person-derived figures, and at what threshold.

One decision (:func:`sees_small_counts`) so it can later be switched to the casework policy
(``peelian.casework``) without touching a page: every page, API route and CSV export of
measure values asks :func:`hidden_below` for the threshold to apply to the current user.
The suppression itself is :func:`peelian.analysis.disclosure.suppress_small_counts`.
"""

from __future__ import annotations

from typing import Any

from peelian.analysis.disclosure import DEFAULT_THRESHOLD
from peelian.data.accounts.users import role_allows

__all__ = ["hidden_below", "sees_small_counts", "small_count_threshold"]


def sees_small_counts(role: str | None) -> bool:
    """Whether a role sees unsuppressed small counts derived from person-level records.

    Today: roles with person-level access, i.e. the analyst level and above (analyst,
    supervisor, safeguarding, admin); viewers, partners and auditors see counts from 1 to
    threshold - 1 as "<threshold".
    """
    return bool(role) and role_allows(str(role), "analyst")


def small_count_threshold(ctx: Any) -> int:
    """The configured threshold (``PEELIAN_SMALL_COUNT_THRESHOLD``, default 5)."""
    value = getattr(getattr(ctx, "settings", None), "small_count_threshold", None)
    return int(value) if isinstance(value, int) and value >= 1 else DEFAULT_THRESHOLD


def hidden_below(ctx: Any, user: Any) -> int | None:
    """The threshold below which this user's small counts are hidden, or None (sees all)."""
    role = getattr(user, "role", None)
    return None if sees_small_counts(role) else small_count_threshold(ctx)
