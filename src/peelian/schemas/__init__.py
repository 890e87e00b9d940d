"""peelian.schemas."""
