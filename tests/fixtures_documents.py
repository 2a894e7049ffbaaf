"""Shared pytest fixtures of the documents feature (loaded through pytest_plugins in conftest)."""
