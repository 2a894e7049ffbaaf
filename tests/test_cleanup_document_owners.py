"""The history names the documents of a campaign's municipalities (an expert's conclusion) and checks the reader's
scope over the municipality each is about: their owners are loaded at once by each owner kind's batch loader
(OwnerKind.load_many), one statement per kind whatever the number of documents — not one per document, and not by
guessing the owner's model from the registered mappers."""

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)
from tests.conftest import counted_statements
from tests.test_assessment_documents import camp  # noqa: F401  (the fixture)
from tests.test_audit_page import URL, row_ids

TEST_KIND = "test_campaign_row"  # an owner kind registered under a type no model carries as its audit_type


@pytest.fixture
def test_kind():
    """A second owner kind over the campaign's municipality rows, registered under its own type: the kind, not the
    mappers, knows its model."""
    from app.assessment.models import CampaignMunicipality
    from app.documents import owners
    from app.extensions import db

    def load_many(ids):
        return list(db.session.scalars(select(CampaignMunicipality).where(CampaignMunicipality.id.in_(ids))
                                       .options(selectinload(CampaignMunicipality.municipality))))

    owners.register_owner(owners.OwnerKind(
        owner_type=TEST_KIND, load=lambda i: db.session.get(CampaignMunicipality, i), load_many=load_many,
        issuer=lambda row: row.campaign.organisation, title=lambda row: "строка", due=lambda row: None,
        url=lambda row: "/", subject=lambda row: row.municipality))
    yield TEST_KIND
    owners._KINDS.pop(TEST_KIND, None)


def _municipalities(camp, make_org, db_session, count: int) -> list:  # noqa: F811
    """`count` more municipalities in the campaign (rows added as the campaign's creation adds them)."""
    from app.assessment.models import CampaignMunicipality

    campaign = camp["campaign"]
    rows = []
    for _ in range(count):
        n = len(campaign.municipalities) + len(rows)
        mun = make_org("municipality", parent=campaign.organisation, code=f"MUN-X{n}", name=f"Управление {n}")
        rows.append(CampaignMunicipality(campaign_id=campaign.id, municipality_id=mun.id))
    db_session.add_all(rows)
    db_session.flush()
    return rows


def _documents(camp, rows, owner_type: str, db_session) -> list:  # noqa: F811
    """One document of `owner_type` per row, each with an event in the history: the events."""
    from app.audit import chain
    from app.documents.models import Document

    region = camp["campaign"].organisation
    docs = [Document(owner_type=owner_type, owner_id=row.id, organisation_id=region.id, type_key="expert_conclusion",
                     title=f"Заключение по {row.municipality_id}") for row in rows]
    db_session.add_all(docs)
    db_session.flush()
    return [chain.record(action="generate", object_type="document", object_id=doc.id, actor=camp["manager"],
                         organisation_id=region.id) for doc in docs]


def test_the_owners_found_are_each_documents_own(camp, make_org, test_kind, db_session):  # noqa: F811
    """Every owner of a kind with a subject is loaded with its municipality in one statement per kind; the campaign's
    own documents (no subject) load nothing; reading each document's subject afterwards costs no statement."""
    from app.assessment import documents as campaign_documents
    from app.assessment.models import CampaignMunicipality
    from app.documents.labels import _owners_of
    from app.documents.models import Document
    from app.documents.owners import subject_of

    rows = _municipalities(camp, make_org, db_session, 4)
    events = [*_documents(camp, rows[:2], "assessment_municipality", db_session),
              *_documents(camp, rows[2:], test_kind, db_session)]
    region = camp["campaign"].organisation
    order = Document(owner_type="assessment_campaign", owner_id=camp["campaign"].id, organisation_id=region.id,
                     type_key=campaign_documents.ORDER, title="Приказ")
    db_session.add(order)
    db_session.commit()
    ids = [e.object_id for e in events] + [order.id]
    expected = {doc_id: row.municipality_id for doc_id, row in zip(ids, rows)}

    db_session.expire_all()
    docs = list(db_session.scalars(select(Document).where(Document.id.in_(ids))))
    with counted_statements() as loading:
        owners = _owners_of([*docs, None])
    assert len(loading) == 2 + 2  # each kind with a subject: its rows, then their municipalities
    assert {(type(o), o.id) for o in owners} == {(CampaignMunicipality, row.id) for row in rows}
    with counted_statements() as reading:
        subjects = {doc.id: subject_of(doc) for doc in docs}
    assert not reading
    assert {doc_id: (s.id if s is not None else None) for doc_id, s in subjects.items()} == {**expected,
                                                                                              order.id: None}


def test_naming_documents_of_many_owners_costs_the_same(camp, make_org, test_kind, client, login, world,  # noqa: F811
                                                         db_session):
    """/audit/?object=document over two documents of each owner kind and over eight: the same statements."""
    events = []

    def measure(count: int) -> int:
        rows = _municipalities(camp, make_org, db_session, 2 * count)
        events.extend(_documents(camp, rows[:count], "assessment_municipality", db_session)
                      + _documents(camp, rows[count:], test_kind, db_session))
        db_session.commit()
        db_session.expire_all()
        login(world["auditor"])
        with counted_statements() as statements:
            shown = row_ids(client.get(URL, query_string={"object": "document"}))
        assert {e.id for e in events} <= set(shown)
        client.post("/logout")
        return len(statements)

    few = measure(2)
    many = measure(6)
    assert many == few, f"statements for 4 documents and for 16: {few}, {many}"
