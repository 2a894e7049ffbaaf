"""Pages for PDF copies (placeholder until the feature lands)."""
