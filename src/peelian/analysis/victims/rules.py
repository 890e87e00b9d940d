"""The Victims' Code rules as data: duties, their triggers, deadlines and sources.

The rules file (``peelian/casework/data/victims_code_2020.toml``; a new Code edition is a new
file) is read by the casework layer and parsed here by :func:`rules_from_mapping`, which checks
every field and says what is wrong. Each duty carries the status of its source (``confirmed``,
``likely``, ``unverified``): anything not confirmed is flagged wherever it is shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from peelian.errors import ParameterError

__all__ = [
    "CONTACT_PURPOSES",
    "EVENT_TRIGGERS",
    "SOURCE_STATUSES",
    "CodeRules",
    "Duty",
    "rules_from_mapping",
]

#: Source statuses, from the reference notes.
SOURCE_STATUSES = ("confirmed", "likely", "unverified")
#: Investigation events (``investigation_events.event_type``) that trigger a duty.
EVENT_TRIGGERS = ("arrest", "interview", "bail", "rui", "charge", "nfa", "not_investigated")
#: Triggers: the report, an investigation event, or the recorded outcome.
_TRIGGERS = ("reported", *EVENT_TRIGGERS, "outcome")
#: ``victim_contacts.purpose`` values.
CONTACT_PURPOSES = ("initial", "update", "outcome", "referral")


@dataclass(frozen=True)
class Duty:
    """One duty: tell the victim within ``standard_working_days`` (``enhanced_working_days``
    under enhanced rights) of ``trigger``, met by a contact whose purpose is in
    ``satisfied_by``."""

    key: str
    label: str
    right: int
    trigger: str
    standard_working_days: int
    enhanced_working_days: int
    satisfied_by: tuple[str, ...]
    status: str
    source: str
    declinable: bool = False


@dataclass(frozen=True)
class CodeRules:
    """One edition of the Code, as peelian applies it."""

    edition: str
    file_version: int
    title: str
    in_force_from: dt.date
    source: str
    note: str
    duties: tuple[Duty, ...]
    working_day_status: str
    enhanced_derive: bool
    enhanced_ho_codes: tuple[str, ...]
    enhanced_derived_status: str
    enhanced_derived_source: str
    update_default_days: int
    update_default_status: str
    update_default_source: str
    update_satisfied_by: tuple[str, ...]

    def duty(self, key: str) -> Duty:
        for d in self.duties:
            if d.key == key:
                return d
        raise ParameterError(
            f"The Victims' Code {self.edition} rules have no duty {key!r}.",
            f"Duties: {', '.join(d.key for d in self.duties)}, agreed_update.",
        )

    def labels(self) -> dict[str, str]:
        """Duty key -> human label (the periodic update included)."""
        out = {d.key: d.label for d in self.duties}
        out["agreed_update"] = "Update at the agreed frequency"
        return out

    def flags(self) -> list[str]:
        """Plain sentences naming every value that is not confirmed by a source."""
        out = []
        if self.working_day_status != "confirmed":
            out.append(
                "Working days are taken as Monday to Friday except bank holidays "
                f"({self.working_day_status}: the Code gives no definition)."
            )
        for d in self.duties:
            if d.status != "confirmed":
                out.append(f"{d.label}: the deadline is {d.status} ({d.source}).")
        if self.update_default_status != "confirmed":
            out.append(
                f"Where no update frequency was agreed, every {self.update_default_days} days "
                f"is used ({self.update_default_status}: {self.update_default_source})"
            )
        if self.enhanced_derive and self.enhanced_derived_status != "confirmed":
            out.append(
                "Where the force recorded no enhanced-rights flag, the offence decides "
                f"({self.enhanced_derived_status}: {self.enhanced_derived_source})."
            )
        return out

    def as_dict(self) -> dict[str, Any]:
        """For JSON output and the run's parameters."""
        return {
            "edition": self.edition,
            "file_version": self.file_version,
            "title": self.title,
            "in_force_from": self.in_force_from.isoformat(),
            "source": self.source,
            "update_default_days": self.update_default_days,
            "duties": [
                {
                    "key": d.key,
                    "label": d.label,
                    "right": d.right,
                    "trigger": d.trigger,
                    "standard_working_days": d.standard_working_days,
                    "enhanced_working_days": d.enhanced_working_days,
                    "status": d.status,
                    "source": d.source,
                }
                for d in self.duties
            ],
            "flags": self.flags(),
        }


def _need(table: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = table.get(key)
    if kind is int and isinstance(value, bool):
        value = None
    if not isinstance(value, kind):
        raise ParameterError(
            f"The Victims' Code rules file has no valid {where}.{key} "
            f"(expected {kind.__name__}, got {value!r}).",
            "Fix the rules file; see peelian/casework/data/victims_code_2020.toml.",
        )
    return value


def _status(value: Any, where: str) -> str:
    if value not in SOURCE_STATUSES:
        raise ParameterError(
            f"The Victims' Code rules file gives {where} the status {value!r}.",
            f"Use one of {', '.join(SOURCE_STATUSES)}.",
        )
    return str(value)


def _duty(raw: Mapping[str, Any], n: int) -> Duty:
    where = f"duty[{n}]"
    trigger = _need(raw, "trigger", str, where)
    if trigger not in _TRIGGERS:
        raise ParameterError(
            f"The Victims' Code rules file's {where} has the trigger {trigger!r}.",
            f"Triggers: {', '.join(_TRIGGERS)}.",
        )
    purposes = tuple(_need(raw, "satisfied_by", list, where))
    bad = [p for p in purposes if p not in CONTACT_PURPOSES]
    std = _need(raw, "standard_working_days", int, where)
    enh = _need(raw, "enhanced_working_days", int, where)
    if bad or not purposes or std < 0 or enh < 0:
        raise ParameterError(
            f"The Victims' Code rules file's {where} has contact purposes {purposes!r} or "
            f"deadlines {std}/{enh} that cannot be used.",
            f"Purposes: {', '.join(CONTACT_PURPOSES)}; deadlines are whole days >= 0.",
        )
    return Duty(
        key=_need(raw, "key", str, where),
        label=_need(raw, "label", str, where),
        right=_need(raw, "right", int, where),
        trigger=trigger,
        standard_working_days=std,
        enhanced_working_days=enh,
        satisfied_by=purposes,
        status=_status(raw.get("status"), where),
        source=_need(raw, "source", str, where),
        declinable=bool(raw.get("declinable", False)),
    )


def rules_from_mapping(data: Mapping[str, Any]) -> CodeRules:
    """Parse and check a rules file's contents (a parsed TOML mapping)."""
    code = _need(data, "code", dict, "")
    wd = _need(data, "working_days", dict, "")
    enh = _need(data, "enhanced_rights", dict, "")
    upd = _need(data, "update_frequency", dict, "")
    duties = tuple(_duty(raw, n) for n, raw in enumerate(_need(data, "duty", list, "")))
    keys = [d.key for d in duties]
    if len(set(keys)) != len(keys) or "agreed_update" in keys:
        raise ParameterError(
            "The Victims' Code rules file repeats a duty key (or uses 'agreed_update').",
            "Give every [[duty]] its own key.",
        )
    try:
        in_force = dt.date.fromisoformat(_need(code, "in_force_from", str, "code"))
    except ValueError as exc:
        raise ParameterError(
            "The Victims' Code rules file's code.in_force_from is not a YYYY-MM-DD date."
        ) from exc
    days = _need(upd, "default_days", int, "update_frequency")
    if days < 1:
        raise ParameterError("update_frequency.default_days must be 1 or more.")
    return CodeRules(
        edition=_need(code, "edition", str, "code"),
        file_version=_need(code, "file_version", int, "code"),
        title=_need(code, "title", str, "code"),
        in_force_from=in_force,
        source=_need(code, "source", str, "code"),
        note=str(code.get("note", "")),
        duties=duties,
        working_day_status=_status(wd.get("status"), "working_days"),
        enhanced_derive=bool(enh.get("derive_when_not_recorded", False)),
        enhanced_ho_codes=tuple(str(c) for c in enh.get("derived_ho_codes", ())),
        enhanced_derived_status=_status(enh.get("derived_status"), "enhanced_rights"),
        enhanced_derived_source=str(enh.get("derived_source", "")),
        update_default_days=days,
        update_default_status=_status(upd.get("default_status"), "update_frequency"),
        update_default_source=str(upd.get("default_source", "")),
        update_satisfied_by=tuple(upd.get("satisfied_by", CONTACT_PURPOSES)),
    )
