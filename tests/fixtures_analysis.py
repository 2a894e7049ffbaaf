"""Shared pytest fixtures of the analysis feature (loaded through pytest_plugins in conftest)."""
