"""The audit log's links as each reader sees them: the audit page and the cycle histories name every object an event
is about, and link it only when its page opens to the reader (app.audit.present.namer: the target's owner
organisation, or the feature's own check where its page checks more). A link that answers 404 is gone; the title of
an object the reader may not open, outside every cycle they read, is withheld (its kind alone).

The demo is read as the official of one municipality and of another, a school's director, the region's official, an
expert, the auditor and a municipality's head; every link in the rows of their pages is followed."""

import csv
import io
import json

import lxml.html
import pytest
from sqlalchemy import select

from app.audit.exports import verify_extract
from app.demo import DEMO_PASSWORD

# The kinds whose namers link a page: the audit page filtered by each, so every namer is asked (the first page of
# the unfiltered log holds the latest fifty events only).
LINKED_KINDS = ("cycle", "stage", "organisation", "data_request", "submission", "assessment_campaign",
                "self_assessment", "expert_evaluation", "recommendation", "recommendation_item", "measure",
                "decision", "finding", "analysis_run", "document", "attachment")
READERS = ("official", "official2", "director", "region_official", "expert", "auditor", "head")


def _log_in(client, login: str) -> None:
    response = client.post("/login", data={"login": login, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.status_code


def _row_links(response) -> set[str]:
    """The hrefs inside the rows of the audit table or a cycle's history (the page's own navigation aside)."""
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    return {a.get("href") for a in doc.xpath("//tr[@data-event-id]//a[@href] | //table[@id='history']//tbody//a[@href]")
            if a.get("href", "").startswith("/")}


def _pages(client, demo) -> list[str]:
    """The audit pages the reader opens (by kind) and the history of every cycle whose page opens to them."""
    from app.cycles.models import Cycle

    pages = []
    if client.get("/audit/").status_code == 200:
        pages += ["/audit/"] + [f"/audit/?object={kind}" for kind in LINKED_KINDS]
    for cycle_id in demo.scalars(select(Cycle.id).order_by(Cycle.id)):
        if client.get(f"/cycles/{cycle_id}/history").status_code == 200:
            pages.append(f"/cycles/{cycle_id}/history")
    return pages


@pytest.mark.parametrize("login", READERS)
def test_every_link_in_the_audit_rows_opens_for_its_reader(demo, client, login):
    _log_in(client, login)
    links: dict[str, str] = {}
    pages = _pages(client, demo)
    assert pages, login
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, (login, page)
        for href in _row_links(response):
            links.setdefault(href, page)
    assert links, login
    broken = {}
    for href, page in sorted(links.items()):
        status = client.get(href).status_code
        if status != 200:
            broken[href] = (status, page)
    assert not broken, f"{login}: links that do not open ({len(broken)}): {sorted(broken.items())[:10]}"


def test_an_object_outside_the_reader_is_named_by_its_kind_alone(demo, client):
    """An event of the reader's municipality about another municipality's recommendation (its text and a comment
    among the changes): the head of MUN02 reads «адресная рекомендация», never its title, text or comment (neither on
    the page nor in the extract), and no link to its 404 page."""
    from app.audit import chain
    from app.auth.models import User
    from app.cycles.models import Cycle
    from app.followup.models import Recommendation
    from app.orgs.models import Organisation

    head2 = demo.scalar(select(User).where(User.login == "head2"))
    mun, mun2 = (demo.scalar(select(Organisation).where(Organisation.code == code)) for code in ("MUN01", "MUN02"))
    theirs = demo.scalar(select(Recommendation).join(Cycle, Cycle.id == Recommendation.cycle_id)
                         .where(Cycle.owner_id == mun.id).order_by(Recommendation.id).limit(1))
    # the recommendation's own stored fields and a comment: its content, withheld as its title is
    event = chain.record(action="update", object_type="recommendation", object_id=theirs.id, actor=head2,
                         organisation_id=mun2.id, after={"recommendations": [theirs.id], "text": theirs.text},
                         before={"text": "Прежний текст их рекомендации"}, reason="Замечание к их рекомендации")
    demo.commit()
    _log_in(client, "head2")
    assert client.get(f"/followup/recommendations/{theirs.id}").status_code == 404
    doc = lxml.html.fromstring(client.get("/audit/?object=recommendation").get_data(as_text=True))
    (row,) = doc.xpath(f"//tr[@data-event-id='{event.id}']")
    text = " ".join(row.text_content().split())
    assert "адресная рекомендация" in text, text
    assert theirs.title[:30] not in text, text
    assert not [a for a in row.xpath(".//a[@href]") if f"/recommendations/{theirs.id}" in a.get("href")]
    # neither its changes nor the comment: «(вне вашей области доступа)» in their place
    assert "Прежний текст" not in text and "Замечание к их" not in text, text
    assert text.count("(вне вашей области доступа)") == 2, text

    # The extract of the log carries neither, nor the hashed content (the stored fields themselves); it still checks.
    response = client.get("/audit/export.csv", query_string={"object": "recommendation"})
    assert response.status_code == 200
    extract = response.get_data().decode("utf-8-sig")
    (line,) = [cells for cells in csv.reader(io.StringIO(extract), delimiter=";") if cells[0] == str(event.id)]
    assert line[6] == "адресная рекомендация", line
    assert line[11] == line[12] == line[13] == "(вне вашей области доступа)", line
    for words in (theirs.text[:40], "Прежний текст", "Замечание к их"):
        assert words not in extract and json.dumps(words)[1:-1] not in extract, words
    check = verify_extract(io.StringIO(extract))
    assert check.ok and check.withheld >= 1, check
