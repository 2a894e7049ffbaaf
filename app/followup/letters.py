"""The letter that carries addressed recommendations to an addressee (document type «addressed_recommendations», one
per addressee of the cycle's REC stage) and is their proof of sending: its outgoing number and date (domain §4, REC).

A recommendation goes to an addressee only with a registered edition of that addressee's letter which carries the
recommendation's text (the edition's data snapshot): a letter registered before the recommendation was written, or
before its text last changed, does not prove it was sent. The workflow asks this through its hook
(workflows.hooks.addressee_letter) and the item's page shows that letter; the integrity panel flags an item sent with
no registered letter at all (data from before the guard).
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from app.core.db import in_ids
from app.core.timeutil import format_date
from app.documents.catalogue import get_type
from app.documents.models import Document, DocumentVersion
from app.extensions import db
from app.followup.models import Recommendation, RecommendationItem
from app.orgs.models import Organisation

LETTER_TYPE = "addressed_recommendations"


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


def letter_registered():
    """SQL, correlated with RecommendationItem and Recommendation: the item's addressee has a registered edition of
    its letter in the recommendation's cycle. The integrity panel and its counts (app/effectiveness) flag an item
    sent without one — data from before the dispatch guard asked for the letter."""
    return exists().where(Document.cycle_id == Recommendation.cycle_id, Document.type_key == LETTER_TYPE,
                          Document.addressee_id == RecommendationItem.organisation_id,
                          DocumentVersion.document_id == Document.id,
                          DocumentVersion.registration_number.is_not(None))
