"""Pages for template administration (placeholder until the feature lands)."""
