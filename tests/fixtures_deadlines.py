"""Shared pytest fixtures of the deadlines feature (loaded through pytest_plugins in conftest)."""
