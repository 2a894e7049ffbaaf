"""Per-feature route knowledge for the access walk."""
