"""The mechanism catalogue is versioned data: loaded idempotently from YAML, extended by an administrator."""

import re

from sqlalchemy import func, select

from app.catalogue.models import IndicatorGroup, LibraryIndicator, Mechanism, MechanismSet, Track
from app.catalogue.services import load_all, load_mechanism_catalogue


def codes(db_session, level):
    return db_session.scalars(select(Mechanism.code).join(Mechanism.mechanism_set)
                              .where(MechanismSet.level == level).order_by(Mechanism.position)).all()


def test_catalogue_has_the_municipal_regional_and_school_sets(db_session):
    assert codes(db_session, "municipal") == ["M1.1", "M1.2", "M1.3", "M1.4", "M2.1", "M2.2", "M2.3", "M2.4", "MX.1"]
    assert codes(db_session, "regional") == ["R1.1", "R1.2", "R1.3", "R1.4", "R2.1", "R2.2", "R2.3", "R2.4", "R2.5"]
    assert codes(db_session, "school") == ["I1.1", "I1.2", "I1.3", "I1.4", "I2.1", "I2.2", "I2.3", "I2.4"]
    m24 = db_session.scalar(select(Mechanism).where(Mechanism.code == "M2.4"))
    assert len(m24.tracks) == 5
    partial = next(t for t in m24.tracks if t.code == "management")
    assert partial.blocks == ["MEAS", "DEC", "EFF"] and not partial.full_cycle
    assert [g.name for g in m24.indicator_groups][:1] == ["образовательные программы"] or m24.indicator_groups
    m11 = db_session.scalar(select(Mechanism).where(Mechanism.code == "M1.1"))
    assert "функциональная грамотность" in [g.name for g in m11.indicator_groups]
    # 58 for the eight municipal mechanisms (reference/indicators.yaml), 25 for R2.1–R2.5 and 4 for MX.1 [default].
    assert db_session.scalar(select(func.count()).select_from(LibraryIndicator)
                             .where(LibraryIndicator.mechanism_code.in_(
                                 ("M1.1", "M1.2", "M1.3", "M1.4", "M2.1", "M2.2", "M2.3", "M2.4")))) == 58
    assert db_session.scalar(select(func.count()).select_from(LibraryIndicator)) == 87


def test_loading_again_changes_nothing(db_session):
    counts = [db_session.scalar(select(func.count()).select_from(m)) for m in
              (MechanismSet, Mechanism, Track, IndicatorGroup, LibraryIndicator)]
    load_all()
    assert load_mechanism_catalogue() == []
    assert [db_session.scalar(select(func.count()).select_from(m)) for m in
            (MechanismSet, Mechanism, Track, IndicatorGroup, LibraryIndicator)] == counts


def test_regional_admin_adds_a_mechanism_and_a_partial_track_without_code(world, client, login, db_session):
    login(world["admin"])
    mset = db_session.scalar(select(MechanismSet).where(MechanismSet.level == "municipal"))
    response = client.post(f"/catalogue/sets/{mset.id}/mechanisms", data={
        "code": "MR.1", "title": "Система поддержки сельских школ", "group": "региональные",
        "groups": "кадровое обеспечение\nсетевое взаимодействие"})
    assert response.status_code == 302
    mech = db_session.scalar(select(Mechanism).where(Mechanism.code == "MR.1"))
    assert mech.region_specific and [t.code for t in mech.tracks] == ["main"]
    assert [g.name for g in mech.indicator_groups] == ["кадровое обеспечение", "сетевое взаимодействие"]
    response = client.post(f"/catalogue/mechanisms/{mech.id}/tracks", data={
        "code": "rural", "title": "Малокомплектные школы", "blocks": ["EFF", "MEAS", "DEC"]})
    assert response.status_code == 302
    track = db_session.scalar(select(Track).where(Track.mechanism_id == mech.id, Track.code == "rural"))
    assert track.blocks == ["MEAS", "DEC", "EFF"]  # kept in cycle order
    # The new track is immediately usable for a cycle.
    from app.cycles.services import create_cycle

    cycle = create_cycle(track=track, owner=world["mun"], period="2025/26", actor=world["official"])
    assert [s.code for s in cycle.stages] == ["MEAS", "DEC", "EFF"]


def test_duplicate_mechanism_code_is_refused_in_russian(world, client, login, db_session):
    login(world["admin"])
    mset = db_session.scalar(select(MechanismSet).where(MechanismSet.level == "municipal"))
    before = db_session.scalar(select(func.count()).select_from(Mechanism))
    response = client.post(f"/catalogue/sets/{mset.id}/mechanisms", data={"code": "M1.1", "title": "Дубликат"})
    assert response.status_code == 422
    assert "уже есть в этом перечне" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Mechanism)) == before


def test_only_a_regional_admin_edits_the_catalogue(world, make_user, client, login, db_session):
    municipal_admin = make_user("admin", world["mun"], login="mun_admin")
    db_session.commit()
    login(municipal_admin)
    mset = db_session.scalar(select(MechanismSet).where(MechanismSet.level == "municipal"))
    response = client.post(f"/catalogue/sets/{mset.id}/mechanisms", data={"code": "MZ.1", "title": "Попытка"})
    assert response.status_code == 403
    assert "администратор регионального уровня" in response.get_data(as_text=True)
    client.post("/logout")
    login(world["official"])
    assert client.post(f"/catalogue/sets/{mset.id}/mechanisms", data={"code": "MZ.1", "title": "x"}).status_code == 403
    assert db_session.scalar(select(Mechanism).where(Mechanism.code == "MZ.1")) is None


def test_a_refused_track_shows_its_error_once_beside_the_form_that_was_sent(world, client, login, db_session):
    import lxml.html

    login(world["admin"])
    mech = db_session.scalar(select(Mechanism).where(Mechanism.code == "M1.2"))
    before = db_session.scalar(select(func.count()).select_from(Track))
    response = client.post(f"/catalogue/mechanisms/{mech.id}/tracks", data={"code": "rural-typed", "title": " "})
    assert response.status_code == 422
    page = lxml.html.fromstring(response.get_data(as_text=True))
    errors = page.xpath("//*[contains(@class, 'invalid-feedback')]")
    assert len(errors) == 1
    assert errors[0].xpath("ancestor::tr/@id") == [f"m{mech.id}"]
    assert errors[0].xpath("ancestor::details[@open]")  # not folded away out of sight
    # What was typed comes back in that form only: neither the other tracks' forms nor the mechanism forms have it.
    assert page.xpath("//input[@value='rural-typed']/ancestor::tr/@id") == [f"m{mech.id}"]
    assert db_session.scalar(select(func.count()).select_from(Track)) == before


def test_a_refused_mechanism_shows_its_error_only_in_its_own_sets_form(world, client, login, db_session):
    import lxml.html

    login(world["admin"])
    mset = db_session.scalar(select(MechanismSet).where(MechanismSet.level == "municipal"))
    response = client.post(f"/catalogue/sets/{mset.id}/mechanisms", data={"code": "M1.1", "title": "Дубликат"})
    assert response.status_code == 422
    page = lxml.html.fromstring(response.get_data(as_text=True))
    errors = page.xpath("//*[contains(@class, 'invalid-feedback')]")
    assert [" ".join(e.text_content().split()) for e in errors] == [errors[0].text_content().strip()]
    form = errors[0].xpath("ancestor::form")[0]
    assert form.get("action").endswith(f"/catalogue/sets/{mset.id}/mechanisms")
    assert len(page.xpath("//input[@value='Дубликат']")) == 1


def test_a_partial_track_names_its_stages_by_their_numbers_not_by_codes(world, client, login):
    import lxml.html

    login(world["official"])
    page = lxml.html.fromstring(client.get("/catalogue/").data)
    cell = " ".join(page.xpath("//tr[td[1][starts-with(normalize-space(), 'M2.4')]]/td[3]")[0].text_content().split())
    assert "Развитие механизмов управления качеством дошкольного образования (только этапы 7, 8, 9)" in cell, cell
    assert "MEAS" not in cell


def test_a_set_shows_its_version_as_a_number_and_a_date_not_the_loaders_key(world, client, login):
    """«версия 1, загружена ДД.ММ.ГГГГ»: the YAML's key («2021.08-70») says nothing to an official."""
    import lxml.html

    login(world["official"])
    page = lxml.html.fromstring(client.get("/catalogue/").data)
    editions = [" ".join(e.text_content().split()) for e in page.xpath("//span[contains(@class, 'set-edition')]")]
    assert len(editions) == 3, editions
    for edition in editions:
        assert re.fullmatch(r"версия 1, загружена \d\d\.\d\d\.\d{4}", edition), edition
    text = page.text_content()
    assert "2021.08-70" not in text and "2026.1-default" not in text and "fioko" not in text
