"""Shared pytest fixtures of the followup feature (loaded through pytest_plugins in conftest)."""
