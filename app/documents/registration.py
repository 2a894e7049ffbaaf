"""Registration journal (журнал регистрации): gap-free, unique numbers per organisation and calendar year.

The counter row is incremented with one `UPDATE … SET last_number = last_number + 1 … RETURNING`: on
PostgreSQL that takes the row lock (a concurrent registration waits for our commit and then sees our
number), on SQLite the database write lock serialises writers. The increment belongs to the caller's
transaction, so a registration that rolls back gives its number back: no gaps. The first registration of
a year inserts the row inside a savepoint; if another transaction inserted it first, we retry the UPDATE.
"""

from flask import current_app
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app.core.timeutil import today_in
from app.documents.models import RegistrationJournal
from app.extensions import db


def _increment(organisation_id: int, year: int) -> int | None:
    return db.session.execute(
        update(RegistrationJournal)
        .where(RegistrationJournal.organisation_id == organisation_id, RegistrationJournal.year == year)
        .values(last_number=RegistrationJournal.last_number + 1)
        .returning(RegistrationJournal.last_number)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()


def next_number(organisation_id: int, year: int) -> int:
    """Take the next number of the organisation's journal for `year`, in the caller's transaction."""
    number = _increment(organisation_id, year)
    if number is not None:
        return number
    try:
        with db.session.begin_nested():
            db.session.add(RegistrationJournal(organisation_id=organisation_id, year=year, last_number=1))
        return 1
    except IntegrityError:
        # Another transaction created this year's journal meanwhile (and has committed): take the next one.
        number = _increment(organisation_id, year)
        if number is None:  # pragma: no cover - the row exists once the unique constraint fired
            raise
        return number


def format_number(number: int, year: int) -> str:
    """«0007/2026»: the sequence within the year and the year."""
    return f"{number:04d}/{year}"


def register_version(version, *, actor) -> None:
    """Give the version the next registration number and today's date (in the organisation's time zone)."""
    org = version.document.organisation
    today = today_in(org.timezone or current_app.config["APP_TIMEZONE"])
    number = next_number(org.id, today.year)
    version.registration_org_id = org.id
    version.registration_year = today.year
    version.registration_seq = number
    version.registration_number = format_number(number, today.year)
    version.registration_date = today
    version.registered_by_id = actor.id
