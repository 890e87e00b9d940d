"""Victims and justice: the Victims' Code engine (working-day calendar, duties and their
deadlines, compliance rates with exact intervals).

Pure functions over frames (no store, settings or files): the rules come in as a
:class:`~peelian.analysis.victims.rules.CodeRules` built by the casework layer from a versioned
data file. Further modules (satisfaction linkage, justice outcomes, repeat victimisation) sit
beside these and share the calendar and the rules.
"""
