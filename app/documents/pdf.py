"""PDF copies of registered documents (placeholder until the feature lands)."""
