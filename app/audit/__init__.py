"""Hash-chained, append-only audit log (журнал аудита)."""

from app.audit import models  # noqa: F401
