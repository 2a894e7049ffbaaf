"""Registration (регистрация): gap-free, unique numbers per journal and calendar year.

Each organisation keeps journals by kind of document (journals.py): приказы «12-од», исходящие письма
«01-15/123», протоколы … A document is numbered in the journal its type maps to; the counter row of that journal
and year is incremented with one `UPDATE … SET last_number = last_number + 1 … RETURNING`: on PostgreSQL that takes
the row lock (a concurrent registration in the same journal waits for our commit and then sees our number; one in
another journal does not wait at all), on SQLite the database write lock serialises writers. The increment belongs
to the caller's transaction, so a registration that rolls back gives its number back: no gaps. The first
registration of a year inserts the row inside a savepoint; if another transaction inserted it first, we retry the
UPDATE. The unique constraint (journal, year, sequence) on document_versions is the last line of defence.
"""

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app.documents.journals import journal_for
from app.documents.models import DocumentJournal, RegistrationJournal
from app.extensions import db
from app.orgs.services import org_today


def _increment(journal_id: int, year: int) -> int | None:
    return db.session.execute(
        update(RegistrationJournal)
        .where(RegistrationJournal.journal_id == journal_id, RegistrationJournal.year == year)
        .values(last_number=RegistrationJournal.last_number + 1)
        .returning(RegistrationJournal.last_number)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()


def next_number(journal: DocumentJournal, year: int) -> int:
    """Take the next number of `journal` for `year`, in the caller's transaction."""
    number = _increment(journal.id, year)
    if number is not None:
        return number
    try:
        with db.session.begin_nested():
            db.session.add(RegistrationJournal(organisation_id=journal.organisation_id, journal_id=journal.id,
                                               year=year, last_number=1))
        return 1
    except IntegrityError:
        # Another transaction created this year's counter meanwhile (and has committed): take the next one.
        number = _increment(journal.id, year)
        if number is None:  # pragma: no cover - the row exists once the unique constraint fired
            raise
        return number


def register_version(version, *, actor) -> None:
    """Give the version the next number of its type's journal and today's date (in the organisation's time zone)."""
    org = version.document.organisation
    today = org_today(org)
    journal = journal_for(org, version.document.type_key)
    number = next_number(journal, today.year)
    version.registration_org_id = org.id
    version.registration_journal_id = journal.id
    version.registration_year = today.year
    version.registration_seq = number
    version.registration_number = journal.format(number)
    version.registration_date = today
    version.registered_by_id = actor.id
