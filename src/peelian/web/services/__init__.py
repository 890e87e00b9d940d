"""Read-only queries behind the JSON API and the pages (both call the same functions)."""
