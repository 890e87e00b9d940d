"""peelian.analysis."""
