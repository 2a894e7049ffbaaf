"""URL table of data requests and submissions."""

from app.monitoring import bp  # noqa: F401
