"""Who sees small counts of person-derived figures, and at what threshold.

One decision (:func:`sees_small_counts`), read from the casework policy
(``peelian/casework/data/policy.csv``): a role sees small counts when the policy lets it read
every record of some person-level kind. Every page, API route and CSV export of measure values
asks :func:`hidden_below` for the threshold to apply to the current user.
The suppression itself is :func:`peelian.analysis.disclosure.suppress_small_counts`.
"""

from __future__ import annotations

from typing import Any

from peelian.analysis.disclosure import DEFAULT_THRESHOLD
from peelian.casework._vocab import PERSON_LEVEL_KINDS
from peelian.casework.policy import load_policy

__all__ = ["hidden_below", "sees_small_counts", "small_count_threshold"]


def sees_small_counts(role: str | None) -> bool:
    """Whether a role sees unsuppressed small counts derived from person-level records.

    Roles with person access in the casework policy (``read`` scope ``all`` on some person-level
    record kind): with the shipped policy admin, analyst (prioritised people), supervisor and
    safeguarding. Viewers, partners (whose person access is only what an agreement shares) and
    auditors see counts from 1 to threshold - 1 as "<threshold".
    """
    if not role:
        return False
    policy = load_policy()
    return any(policy.get((str(role), kind, "read")) == "all" for kind in PERSON_LEVEL_KINDS)


def small_count_threshold(ctx: Any) -> int:
    """The configured threshold (``PEELIAN_SMALL_COUNT_THRESHOLD``, default 5)."""
    value = getattr(getattr(ctx, "settings", None), "small_count_threshold", None)
    return int(value) if isinstance(value, int) and value >= 1 else DEFAULT_THRESHOLD


def hidden_below(ctx: Any, user: Any) -> int | None:
    """The threshold below which this user's small counts are hidden, or None (sees all)."""
    role = getattr(user, "role", None)
    return None if sees_small_counts(role) else small_count_threshold(ctx)
