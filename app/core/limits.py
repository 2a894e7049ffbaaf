"""Text limits: every free-text column has a maximum (VARCHAR(n), or info={"max_length": n} on a Text
column), forms declare the same maximum (WTForms Length, rendered as maxlength), and a flush that would
store a longer value is refused with a Russian message — on every path (pages, API, imports, demo), so a
value is never silently cut or stored beyond what the forms promise."""

from sqlalchemy import String, event, inspect
from sqlalchemy.orm import Session

from app.core.errors import ValidationFailed

# Form fields that are not stored in a column of the form's own model (comments on transitions etc.):
# they still carry a Length max of their own; the test of the limits knows them by this note.
FREE_TEXT_FIELDS_WITHOUT_COLUMN = "comments of workflow actions are kept in the audit log and approval sheets"


def text_limit(column) -> int | None:
    if isinstance(column.type, String) and getattr(column.type, "length", None):
        return column.type.length
    return column.info.get("max_length")


_LIMITS: dict = {}


def _limits_of(mapper) -> list[tuple[str, int, str]]:
    """(attribute, maximum, label) of the mapper's limited text columns, computed once per mapper."""
    if mapper not in _LIMITS:
        found = []
        for attr in mapper.column_attrs:
            column = attr.columns[0]
            limit = text_limit(column) if isinstance(column.type, String) else None
            if limit:
                found.append((attr.key, limit, column.info.get("label")))
        _LIMITS[mapper] = found
    return _LIMITS[mapper]


def check_lengths(obj) -> None:
    for key, limit, label in _limits_of(inspect(obj).mapper):
        value = obj.__dict__.get(key)
        if isinstance(value, str) and len(value) > limit:
            where = f" в поле «{label}»" if label else ""
            raise ValidationFailed(f"Слишком длинный текст{where}: {len(value):,} знаков при допустимых {limit:,}. "
                                   "Сократите текст — ничего не сохранено.".replace(",", " "))


def refuse_too_long(session, _context, _instances) -> None:
    for obj in list(session.new) + list(session.dirty):
        check_lengths(obj)


def init_app(app) -> None:
    if not event.contains(Session, "before_flush", refuse_too_long):
        event.listen(Session, "before_flush", refuse_too_long)
