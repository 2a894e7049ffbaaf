"""URL table of imports."""

from app.imports import bp  # noqa: F401
