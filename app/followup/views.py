"""Pages of this feature (placeholder until the feature lands)."""
