# ruff: noqa: F811
"""The open public section (issue 14 §4): no log-in; only approved content and published documents; results as
aggregates with small groups suppressed; cached by ETag; an embeddable variant; an Atom feed and a sitemap."""

from decimal import Decimal
import xml.etree.ElementTree as ET

import pytest

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)
from tests.conftest import counted_statements
from tests.test_documents_registered import register, signed_regulation
from tests.test_imports import import_results, result_row, results_csv, run_file, uploads  # noqa: F401

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def published_doc(world, goal_stage, db_session):
    from app.documents import services

    doc = signed_regulation(world, goal_stage, db_session)
    version = register(doc, world, db_session)
    services.transition(doc, "publish", actor=world["official"])
    db_session.commit()
    return doc, version


def test_a_published_document_is_on_its_municipalitys_page_without_log_in(world, published_doc, client):
    doc, version = published_doc
    page = client.get(f"/public/orgs/{world['mun'].code}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert doc.title in text and f"№ {version.registration_number}" in text
    assert "Вход для сотрудников" in text and "Выйти" not in text
    served = client.get(f"/public/documents/{version.id}")
    assert served.status_code == 200 and served.data[:2] == b"PK"  # the registered copy (no LibreOffice here)
    served.close()
    region = client.get(f"/public/orgs/{world['region'].code}").get_data(as_text=True)
    assert doc.title in region  # the region's page gathers its municipalities' publications


def test_an_unpublished_document_and_an_unapproved_cycle_stay_closed(world, goal_stage, db_session, client):
    doc = signed_regulation(world, goal_stage, db_session)
    version = register(doc, world, db_session)  # registered, not published
    assert doc.title not in client.get(f"/public/orgs/{world['mun'].code}").get_data(as_text=True)
    assert client.get(f"/public/documents/{version.id}").status_code == 404
    assert client.get(f"/public/cycles/{goal_stage.cycle_id}").status_code == 404  # goals not approved yet
    assert client.get("/public/orgs/NO-SUCH").status_code == 404


def test_an_approved_cycles_indicators_are_printed_in_russian_numbers(world, anl_cycle, client, db_session):
    # the baseline and the target were printed as stored: «69.1000» beside «71,9»
    import lxml.html

    first, second = anl_cycle.indicators[:2]
    first.unit, first.baseline, first.target = "%", Decimal("69.1"), Decimal("74")
    second.unit, second.baseline, second.target = "чел.", Decimal("13"), Decimal("11")
    db_session.commit()
    page = lxml.html.fromstring(client.get(f"/public/cycles/{anl_cycle.id}").get_data(as_text=True))
    cells = {" ".join(r.xpath("./td")[0].text_content().split()): [" ".join(td.text_content().split())
                                                                     for td in r.xpath("./td")[2:4]]
             for r in page.xpath("//table[.//th[.='Базовое']]//tbody/tr")}
    # each column with the decimals its values need: the baselines «69,1», the targets whole; a head count whole
    # the row names the indicator by its code and name (the effectiveness conclusions may cite the code)
    assert cells[f"{first.code} {first.name}"] == ["69,1", "74"]
    assert cells[f"{second.code} {second.name}"] == ["13", "11"]


def test_an_approved_cycle_shows_goals_and_indicators_and_no_persons(world, anl_cycle, client):
    page = client.get(f"/public/cycles/{anl_cycle.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert anl_cycle.goals[0].statement in text and anl_cycle.indicators[0].name in text
    assert "Меры" not in text  # MEAS is not approved: its content is not public yet
    for person in ("official", "head", "methodologist"):
        assert world[person].full_name not in text
    mun = client.get(f"/public/orgs/{world['mun'].code}").get_data(as_text=True)
    assert f"/public/cycles/{anl_cycle.id}" in mun
    # The main track is named as the mechanism: its title is said once as the heading, not again in the line below.
    import lxml.html

    body = lxml.html.fromstring(text).xpath("//h1/following-sibling::p[1]")[0].text_content()
    assert anl_cycle.track.mechanism.title not in body and f"период {anl_cycle.period}" in body, body


def test_the_organisation_page_names_a_single_track_mechanism_once(world, anl_cycle, client):
    # The heading «Система оценки …» was followed by the link «Система оценки … — 2025/26»: the same title twice.
    import lxml.html

    page = lxml.html.fromstring(client.get(f"/public/orgs/{world['mun'].code}").data)
    mechanism = anl_cycle.track.mechanism
    section = page.xpath(f"//section[h3[normalize-space()='{mechanism.title}']]")[0]
    links = [" ".join(a.text_content().split()) for a in section.xpath(".//a")]
    assert links == [f"Цикл {anl_cycle.period}"], links


def test_results_of_small_groups_are_suppressed(world, import_results, client):
    rows = [result_row(n, school_code="SCH-A" if n <= 12 else "SCH-B") for n in range(1, 16)]
    assert import_results(results_csv(rows)).status == "done"
    mun = client.get(f"/public/orgs/{world['mun'].code}").get_data(as_text=True)
    assert "70,0" in mun and "результаты не публикуются" not in mun  # 15 participants
    small = client.get(f"/public/orgs/{world['school_b'].code}").get_data(as_text=True)
    assert "менее 10 участников — результаты не публикуются" in small and "70,0" not in small
    assert "70,0" in client.get(f"/public/orgs/{world['school_a'].code}").get_data(as_text=True)


def test_pages_are_cached_by_etag_until_something_changes(world, published_doc, client, db_session):
    from app.audit import chain

    url = f"/public/orgs/{world['mun'].code}"
    first = client.get(url)
    assert first.headers["Cache-Control"].startswith("public, max-age=") and first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    chain.record(action="update", object_type="organisation", object_id=world["mun"].id, actor=world["admin"],
                 actor_role="admin", organisation_id=world["mun"].id, after={"name": "x"})
    db_session.commit()
    changed = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]


def test_the_embeddable_variant_drops_the_frame_and_allows_framing(world, client, app):
    plain = client.get(f"/public/orgs/{world['mun'].code}")
    assert "frame-ancestors 'none'" in plain.headers["Content-Security-Policy"]
    embedded = client.get(f"/public/orgs/{world['mun'].code}?embed=1")
    assert f"frame-ancestors {app.config['PUBLIC_FRAME_ANCESTORS']}" in embedded.headers["Content-Security-Policy"]
    assert "Вход для сотрудников" not in embedded.get_data(as_text=True)


def test_the_atom_feed_lists_published_documents(world, published_doc, client):
    doc, version = published_doc
    feed = ET.fromstring(client.get(f"/public/orgs/{world['mun'].code}/feed.atom").data)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1 and doc.title in entries[0].find(f"{ATOM}title").text
    assert entries[0].find(f"{ATOM}link").get("href").endswith(f"/public/documents/{version.id}")


def test_the_sitemap_lists_organisations_and_approved_cycles(world, anl_cycle, client):
    sitemap = ET.fromstring(client.get("/public/sitemap.xml").data)
    locations = [e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert any(u.endswith(f"/public/cycles/{anl_cycle.id}") for u in locations)
    assert any(u.endswith(f"/public/orgs/{world['mun'].code}") for u in locations)


def test_the_region_page_takes_a_fixed_number_of_statements(world, make_org, client, db_session):
    def measure():
        db_session.commit()
        with counted_statements() as statements:
            assert client.get(f"/public/orgs/{world['region'].code}").status_code == 200
        return len(statements)

    few = measure()
    for n in range(5):
        make_org("municipality", parent=world["region"], code=f"PUB{n}", name=f"Район {n}")
    assert measure() == few


def test_a_municipalitys_organisations_are_listed_by_the_names_shown_numbers_by_value(world, make_org, client,
                                                                                       db_session):
    # Ordered by the full legal name, the short names came out as «СОШ № 10», «СОШ № 1», «Детский сад № 14», «№ 7».
    import lxml.html

    mun = make_org("municipality", parent=world["region"], code="PUBSORT", name="Отдел образования Приморского МО")
    for code, full, short in (("PS10", "МБОУ «Средняя школа № 10»", "СОШ № 10"),
                              ("PS1", "МБОУ «Средняя школа № 1»", "СОШ № 1"),
                              ("PS2", "МАОУ «Средняя школа № 2»", "СОШ № 2"),
                              ("PSL", "МКОУ «Основная школа с. Ёлкино»", "ООШ с. Ёлкино")):
        make_org("school", parent=mun, code=code, name=full, short_name=short)
    db_session.commit()
    page = lxml.html.fromstring(client.get("/public/orgs/PUBSORT").data)
    assert [a.text_content() for a in page.xpath("//ul[@class='columns-list']/li/a")] == [
        "ООШ с. Ёлкино", "СОШ № 1", "СОШ № 2", "СОШ № 10"]


def test_the_public_roadmap_gives_each_measures_dates_as_one_unbroken_range(demo, client):
    """The public page printed «27.10.2026 —» on one line and the end date on the next (a spaced em dash, unlike every
    other page's «27.10.2026 – 06.11.2026»)."""
    import re

    from sqlalchemy import select

    from app.cycles.models import Stage
    from app.public.services import measures

    meas = demo.scalars(select(Stage).where(Stage.code == "MEAS", Stage.state == "approved")).first()
    html = client.get(f"/public/cycles/{meas.cycle_id}").get_data(as_text=True)
    ranges = re.findall(r'<td class="text-nowrap">(\d\d\.\d\d\.\d{4}) – (\d\d\.\d\d\.\d{4})</td>', html)
    assert ranges and len(ranges) == len(measures(meas.cycle))
    roadmap = html.split("Ожидаемый результат")[1].split("</table>")[0]
    # (a spaced dash of the text itself, «Доля обучающихся — участников …» in an expected result, is no date range)
    assert not re.search(r"\d{4}[\s\u00a0]—|—[\s\u00a0]\d\d\.", roadmap)


def test_the_public_roadmap_says_each_measures_state(demo, client):
    """A cancelled measure stood in the public roadmap like a planned one (attack 11): each row says its state."""
    import lxml.html
    from sqlalchemy import select

    from app.cycles.models import Stage
    from app.followup.models import Measure
    from app.public.services import measures

    meas = demo.scalars(select(Stage).where(Stage.code == "MEAS", Stage.state == "approved")).first()
    cancelled = next(m for m in measures(meas.cycle) if m.state in ("planned", "in_progress"))
    cancelled.state, cancelled.cancel_reason = "cancelled", "служебная причина"
    demo.flush()
    page = lxml.html.fromstring(client.get(f"/public/cycles/{meas.cycle_id}").get_data(as_text=True))
    states = {row.xpath("td")[0].text_content(): row.xpath("td")[-1].text_content()
              for row in page.xpath("//table[.//th[.='Ожидаемый результат']]/tbody/tr")}
    assert states[cancelled.title] == "отменено"
    assert set(states.values()) - {"отменено"} <= {"запланировано", "исполняется", "выполнено",
                                                   "исполнение подтверждено"}
    assert len(states) == len(demo.scalars(select(Measure).where(Measure.cycle_id == meas.cycle_id)).all())
    assert "служебная причина" not in lxml.html.tostring(page, encoding=str)
