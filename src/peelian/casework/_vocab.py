"""Casework vocabulary: organisation kinds, record kinds, SARA stages and statuses, with the human
labels every surface shows (no snake_case on a page)."""

from __future__ import annotations

from peelian.errors import ParameterError

__all__ = [
    "ACTIONS",
    "ACTION_STATUSES",
    "CONSENT",
    "INTERVENTION_TYPES",
    "ORG_KINDS",
    "PERSON_LEVEL_KINDS",
    "PROBLEM_FOCUS",
    "PROBLEM_STAGES",
    "PROBLEM_STATUSES",
    "RECORD_KINDS",
    "REFERRAL_STATUSES",
    "REFERRAL_TRANSITIONS",
    "TARGET_KINDS",
    "TIERS",
    "check_choice",
    "label",
]

#: Organisation kinds and their labels.
ORG_KINDS: dict[str, str] = {
    "force": "Police force",
    "command": "Police command",
    "csp": "Community Safety Partnership",
    "vru": "Violence Reduction Unit",
    "childrens_services": "Children's services",
    "adult_services": "Adult services",
    "health": "Health",
    "education": "Education",
    "probation": "Probation",
    "youth_justice": "Youth justice",
    "housing": "Housing",
    "voluntary": "Voluntary sector",
}

#: Kinds of casework record the access policy decides on, and their labels.
RECORD_KINDS: dict[str, str] = {
    "organisation": "Organisations",
    "agreement": "Data-sharing agreements",
    "problem": "Problems (places and themes)",
    "problem_person": "Problems naming people",
    "action": "Problem actions",
    "intervention": "Interventions",
    "referral": "Referrals",
    "person": "People",
    "nominal": "Prioritised people and cohorts",
    "victim": "Victims and their Victims' Code duties",
    "audit": "Audit log",
}
#: Record kinds that hold personal data (DPA 2018 Part 3): every read, change and export of one
#: is written to the audit log with the purpose the user gave.
PERSON_LEVEL_KINDS: frozenset[str] = frozenset(
    {"problem_person", "referral", "person", "nominal", "victim"}
)

#: What a user may do to a record kind (the columns of the policy matrix).
ACTIONS: dict[str, str] = {
    "read": "Read",
    "create": "Create",
    "update": "Update",
    "close": "Close",
    "export": "Export",
}

PROBLEM_FOCUS: dict[str, str] = {
    "place": "A place",
    "group": "A group of people",
    "theme": "A theme",
}
#: SARA (Eck & Spelman 1987, *Problem-Solving: Problem-Oriented Policing in Newport News*).
PROBLEM_STAGES: dict[str, str] = {
    "scanning": "Scanning",
    "analysis": "Analysis",
    "response": "Response",
    "assessment": "Assessment",
}
PROBLEM_STATUSES: dict[str, str] = {
    "open": "Open",
    "on_hold": "On hold",
    "closed": "Closed",
}
ACTION_STATUSES: dict[str, str] = {
    "planned": "Planned",
    "in_progress": "In progress",
    "done": "Done",
    "dropped": "Dropped",
}

#: Prevention tiers (the public-health model: Caplan 1964, as used in the Serious Violence Duty
#: guidance, Home Office 2022): before harm, at early signs, after harm to prevent recurrence.
TIERS: dict[str, str] = {
    "primary": "Primary (before harm)",
    "secondary": "Secondary (early signs, at risk)",
    "tertiary": "Tertiary (after harm, preventing recurrence)",
}
INTERVENTION_TYPES: dict[str, str] = {
    "early_intervention": "Early intervention",
    "diversion_pathway": "Diversion pathway",
    "signposting": "Signposting",
    "focused_deterrence": "Focused deterrence",
    "safeguarding": "Safeguarding",
    "design_out_crime": "Design out crime",
    "education_programme": "Education programme",
    "patrol": "Patrol",
}
#: Who or what an intervention is aimed at; person and family targets are personal data.
TARGET_KINDS: dict[str, str] = {
    "person": "A person",
    "family": "A family",
    "place": "A place",
    "group": "A group of people",
}
CONSENT: dict[str, str] = {
    "given": "Consent given",
    "refused": "Consent refused",
    "not_sought": "Consent not sought",
}
REFERRAL_STATUSES: dict[str, str] = {
    "made": "Made",
    "accepted": "Accepted",
    "declined": "Declined",
    "in_progress": "In progress",
    "closed": "Closed",
}
#: The statuses a referral may move to from each status (declined and closed are final).
REFERRAL_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "made": ("accepted", "declined"),
    "accepted": ("in_progress", "closed"),
    "in_progress": ("closed",),
    "declined": (),
    "closed": (),
}

_ALL: dict[str, str] = {  # later entries win: the older vocabularies keep their labels
    **TIERS,
    **INTERVENTION_TYPES,
    **TARGET_KINDS,
    **CONSENT,
    **REFERRAL_STATUSES,
    **ORG_KINDS,
    **RECORD_KINDS,
    **ACTIONS,
    **PROBLEM_FOCUS,
    **PROBLEM_STAGES,
    **PROBLEM_STATUSES,
    **ACTION_STATUSES,
}


def label(value: str | None) -> str:
    """The human label of a casework code (the code itself, de-snaked, if unknown)."""
    if value is None:
        return ""
    return _ALL.get(value, value.replace("_", " ").capitalize())


def check_choice(value: str, choices: dict[str, str], what: str, func: str) -> str:
    """``value`` if it is one of ``choices``, else a :class:`ParameterError` listing them."""
    if value not in choices:
        raise ParameterError(
            f"The '{what}' parameter of {func} must be one of {', '.join(choices)}. Got {value!r}.",
            "; ".join(f"{k} = {v}" for k, v in choices.items()),
        )
    return value
