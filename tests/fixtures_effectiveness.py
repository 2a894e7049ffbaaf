"""Shared pytest fixtures of the effectiveness feature (loaded through pytest_plugins in conftest)."""
