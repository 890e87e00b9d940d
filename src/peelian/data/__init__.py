"""peelian.data."""
