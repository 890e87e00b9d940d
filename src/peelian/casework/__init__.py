"""peelian.casework."""
