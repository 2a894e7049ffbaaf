"""Template administration (placeholder until the feature lands)."""
