"""Command-line group of this feature (None until it has commands)."""

cli = None
