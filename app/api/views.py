"""URL table of the API."""

from app.api import bp  # noqa: F401
