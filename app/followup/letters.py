"""The letter that carries addressed recommendations to an addressee (document type «addressed_recommendations», one
per addressee of the cycle's REC stage) and is their proof of sending: its outgoing number and date (domain §4, REC).

A recommendation goes to an addressee only with a registered edition of that addressee's letter which carries the
recommendation's text (the edition's data snapshot): a letter registered before the recommendation was written, or
before its text last changed, does not prove it was sent. The workflow asks this through its hook
(workflows.hooks.addressee_letter) and the item's page shows that letter; the integrity panel and its counts flag an
item sent without such a letter (data from before the guard) by the same rule in SQL (letter_registered, carries).
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType
from sqlalchemy.orm import selectinload

from app.core.db import in_ids
from app.core.timeutil import format_date
from app.documents.catalogue import get_type
from app.documents.models import Document, DocumentVersion
from app.extensions import db
from app.followup.models import Recommendation, RecommendationItem
from app.orgs.models import Organisation

LETTER_TYPE = "addressed_recommendations"
# Every character Python's str.strip() removes (the walk's _texts and carrying strip with it), for SQL's trim to strip
# the same: none is above U+3000 IDEOGRAPHIC SPACE, so the scan stops there instead of at sys.maxunicode.
STRIPPED = "".join(c for c in map(chr, range(0x3001)) if c.isspace())


@dataclass(frozen=True)
class Letter:
    """A registered edition of an addressee's letter: what the addressee is shown as the proof of sending."""

    document_id: int
    number: str
    registered_on: date | None
    texts: frozenset[str]

    @property
    def label(self) -> str:
        if self.registered_on is None:
            return f"№ {self.number}"
        return f"№ {self.number} от {format_date(self.registered_on)}"


def _texts(version) -> frozenset[str]:
    rows = ((version.context_snapshot or {}).get("context") or {}).get("recommendations") or []
    return frozenset((row.get("text") or "").strip() for row in rows if isinstance(row, dict))


def letters_of(cycle_id: int, org_ids) -> dict[int, tuple[Document | None, list[Letter]]]:
    """Per addressee: its letter of the cycle (or None) and the letter's registered editions, the newest first."""
    docs = db.session.scalars(
        select(Document).where(Document.cycle_id == cycle_id, Document.type_key == LETTER_TYPE,
                               in_ids(Document.addressee_id, list(org_ids)))
        .options(selectinload(Document.versions)))
    found = {org_id: (None, []) for org_id in org_ids}
    for doc in docs:
        registered = [Letter(doc.id, v.registration_number, v.registration_date, _texts(v))
                      for v in reversed(doc.versions) if v.registration_number]
        found[doc.addressee_id] = (doc, registered)
    return found


def carrying(letters: list[Letter], text: str | None) -> Letter | None:
    """The newest registered edition that carries `text`."""
    wanted = (text or "").strip()
    return next((letter for letter in letters if wanted in letter.texts), None)


def letter_of(item) -> Letter | None:
    """The registered letter that carried the item's recommendation to its addressee, if any."""
    _doc, letters = letters_of(item.recommendation.cycle_id, [item.organisation_id])[item.organisation_id]
    return carrying(letters, item.recommendation.text)


def letter_problems(item) -> list[str]:
    """Why the item may not be sent yet (empty when its addressee's registered letter carries it): the engine's
    guard of «Направить адресатам»."""
    return problems_of_items([item])


def problems_of_items(items) -> list[str]:
    """letter_problems of several items of one recommendation in a fixed number of queries (a recommendation to a
    whole municipality's schools: the page asked two queries an addressee)."""
    if not items:
        return []
    org_ids = [item.organisation_id for item in items]
    found = letters_of(items[0].recommendation.cycle_id, org_ids)
    # the addressees into the session at once: each item's `organisation` is then read without a query
    db.session.scalars(select(Organisation).where(in_ids(Organisation.id, org_ids))).all()
    return [p for item in items for p in _problems(item, *found[item.organisation_id])]


def _problems(item, doc, letters) -> list[str]:
    if carrying(letters, item.recommendation.text) is not None:
        return []
    name = item.organisation.display_name
    title = get_type(LETTER_TYPE).title
    if doc is None:
        return [f"«{name}»: нет письма «{title}». Сформируйте его в разделе «Документы этапа», подпишите и "
                "зарегистрируйте — рекомендация направляется с исходящим номером и датой письма."]
    if not letters:
        return [f"«{name}»: письмо «{title}» не зарегистрировано. Рекомендация направляется с исходящим номером "
                "и датой письма: подпишите и зарегистрируйте его."]
    return [f"«{name}»: зарегистрированное письмо «{title}» ({letters[0].label}) не содержит этой рекомендации "
            "(оно составлено до неё или до изменения её текста): сформируйте новую редакцию письма, подпишите и "
            "зарегистрируйте её."]


class carries(FunctionElement):
    """SQL: the letter edition's data snapshot (DocumentVersion.context_snapshot) lists `text` among its
    recommendations, both stripped as Python strips them — carrying() of the walk, for a query over many items."""

    # Not Boolean: a Boolean function in WHERE would be compared with 1 on SQLite (as app/core/db.in_ids).
    type = NullType()
    inherit_cache = True
    name = "carries"

    def __init__(self, snapshot, text):
        super().__init__(snapshot, text, literal(STRIPPED))


@compiles(carries)
def _carries_sqlite(element, compiler, **kw):
    # Compiled SQL of two columns and a bound parameter: no value is ever part of the text.
    snapshot, text, stripped = (compiler.process(c, **kw) for c in element.clauses.clauses)
    listed = f"trim(coalesce(json_extract(carried.value, '$.text'), ''), {stripped})"
    wanted = f"trim(coalesce({text}, ''), {stripped})"
    rows = f"json_each({snapshot}, '$.context.recommendations') AS carried"
    return f"EXISTS (SELECT 1 FROM {rows} WHERE carried.type = 'object' AND {listed} = {wanted})"  # noqa: S608


@compiles(carries, "postgresql")
def _carries_postgresql(element, compiler, **kw):
    snapshot, text, stripped = (compiler.process(c, **kw) for c in element.clauses.clauses)
    listed = f"(({snapshot})::json -> 'context' -> 'recommendations')"
    # json_array_elements fails on a scalar: anything but an array lists nothing
    rows = f"json_array_elements(CASE WHEN json_typeof({listed}) = 'array' THEN {listed} END) AS carried(value)"
    text_of = f"btrim(coalesce(carried.value ->> 'text', ''), {stripped})"
    wanted = f"btrim(coalesce({text}, ''), {stripped})"
    return f"EXISTS (SELECT 1 FROM {rows} WHERE json_typeof(carried.value) = 'object' AND {text_of} = {wanted})"  # noqa: S608


def letter_registered():
    """SQL, correlated with RecommendationItem and Recommendation: the item's addressee has a registered edition of
    its letter in the recommendation's cycle that carries the recommendation's text — the rule of the dispatch guard
    and of the item's page (carrying), so an item whose only registered letter predates its text is flagged too. The
    integrity panel and its counts (app/effectiveness) flag an item sent without one — data from before the dispatch
    guard asked for the letter — in one query for all the items."""
    return exists().where(Document.cycle_id == Recommendation.cycle_id, Document.type_key == LETTER_TYPE,
                          Document.addressee_id == RecommendationItem.organisation_id,
                          DocumentVersion.document_id == Document.id,
                          DocumentVersion.registration_number.is_not(None),
                          carries(DocumentVersion.context_snapshot, Recommendation.text))
