"""Partial cycles close: every partial track of the catalogue (a track with `blocks`, e.g. M2.4 «Развитие
механизмов управления качеством ДО»: MEAS → DEC → EFF) is walked from creation to closure. Its measures are
evaluated against the indicators of the full cycle of the same mechanism, organisation and period
(app/cycles/basis.py); without that full cycle every block that needs it refuses with a Russian reason."""

from datetime import date

import pytest
from sqlalchemy import select

from app.catalogue.models import Mechanism, MechanismSet, Track
from app.core.errors import GuardFailed, ValidationFailed
from app.cycles.basis import basis_cycles, basis_indicators, basis_problems
from app.documents.contexts import build_context
from app.documents.catalogue import mandatory_types
from app.documents.models import Document
from app.effectiveness import services as effectiveness
from app.effectiveness.integrity import check_cycle
from app.extensions import db
from app.public.services import indicator_lines
from tests.conftest import fill_goal, fill_indicators, fill_method
from workflows import engine

PERIOD = "2025/26"


def partial_tracks() -> list[Track]:
    """Every partial track of the active catalogue, whatever level: read from the catalogue, never listed here."""
    return [t for t in db.session.scalars(
        select(Track).join(Mechanism, Mechanism.id == Track.mechanism_id)
        .join(MechanismSet, MechanismSet.id == Mechanism.set_id)
        .where(MechanismSet.active.is_(True)).order_by(Mechanism.code, Track.position)) if t.blocks]


def people(level: str, world, make_user) -> tuple:
    """(owner, editor, approver) of a cycle at the catalogue level."""
    if level == "municipal":
        return world["mun"], world["official"], world["head"]
    if level == "school":
        return world["school_a"], world["staff_a"], world["director_a"]
    region = world["region"]
    return region, make_user("official", region), make_user("head", region)


def fill(stage, editor, approver) -> None:
    from app.demo import fill_stage

    cycle = stage.cycle
    if stage.code == "GOAL":
        fill_goal(cycle, editor)
    elif stage.code == "IND":
        fill_indicators(cycle, editor)
    elif stage.code == "METH":
        fill_method(cycle, editor)
    else:
        fill_stage(stage, official=editor, head=approver)


def walk(cycle, editor, approver, *, upto=None) -> None:
    """Fill, submit and approve each stage in order (up to, not including, `upto`)."""
    for stage in cycle.stages:
        if stage.code == upto:
            return
        fill(stage, editor, approver)
        engine.fire(stage, "submit", actor=editor)
        engine.fire(stage, "approve", actor=approver)


def test_the_catalogue_has_partial_tracks_without_own_indicators(db_session):
    tracks = partial_tracks()
    assert tracks, "the catalogue ships at least one partial track (M2.4 «management»)"
    assert all(not t.own_indicators for t in tracks if "IND" not in t.blocks)


def test_every_partial_track_of_the_catalogue_closes(world, make_user, db_session, client, login):
    from app.cycles.services import create_cycle

    walked = 0
    full_of: dict = {}
    for track in partial_tracks():
        mechanism = track.mechanism
        owner, editor, approver = people(mechanism.level, world, make_user)
        partial = create_cycle(track=track, owner=owner, period=PERIOD, actor=editor, responsible=editor)
        db_session.commit()
        assert [s.code for s in partial.stages] == track.blocks
        assert partial.stages[0].state == "draft"

        if not track.own_indicators:
            # No full cycle yet: the measures have nothing to be evaluated against, and every block and document
            # that needs it says so in Russian instead of «Не задано ни одного показателя.».
            key = (mechanism.id, owner.id)
            if key not in full_of:
                assert basis_cycles(partial) == []
                (reason,) = basis_problems(partial)
                assert f"полного цикла механизма {mechanism.code}" in reason and PERIOD in reason
                first = next(s for s in partial.stages if s.code in ("MEAS", "EFF"))
                walk(partial, editor, approver, upto=first.code)
                fill(first, editor, approver)
                with pytest.raises(GuardFailed) as refused:
                    engine.fire(first, "submit", actor=editor)
                assert reason in refused.value.problems
                db_session.rollback()
                if partial.stage("EFF") is not None:
                    with pytest.raises(ValidationFailed) as doc_refused:
                        build_context("effectiveness_report", partial.stage("EFF"))
                    assert doc_refused.value.problems == [reason]
                # The full cycle of the mechanism (its first full track) runs up to its analysis: indicators
                # with accepted values for the period.
                full_track = next(t for t in mechanism.tracks if t.own_indicators and not t.blocks)
                full = create_cycle(track=full_track, owner=owner, period=PERIOD, actor=editor, responsible=editor)
                walk(full, editor, approver, upto="ANL")
                db_session.commit()
                full_of[key] = full
            full = full_of[key]
            assert basis_cycles(partial) == [full]
            assert basis_problems(partial) == []
            assert {i.id for i in basis_indicators(partial)} == {i.id for i in full.indicators}
            if partial.stage("MEAS") is not None and partial.stage("MEAS").state == "draft":
                # The measure form offers the full cycle's indicators, named with their track.
                login(editor)
                form = client.get(f"/followup/cycles/{partial.id}/measures/new").get_data(as_text=True)
                assert f"(цикл «{full.track.title}»)" in form
                client.post("/logout")

        walk(partial, editor, approver)
        db_session.commit()
        assert partial.state == "closed", track.code
        assert check_cycle(partial) == []
        for stage in partial.stages:
            made = set(db.session.scalars(select(Document.type_key).where(Document.stage_id == stage.id)))
            assert {t.key for t in mandatory_types(stage.code)} <= made, stage.code
        if partial.stage("EFF") is not None and not track.own_indicators:
            rows = effectiveness.indicator_rows(partial)
            assert {r.id for r in rows} == {i.id for i in full.indicators}
            assert any(r.after is not None for r in rows)  # the full cycle's monitoring values count
            linked = {i.id for m in effectiveness.assess_measures(partial, rows, today=date.today())
                      for i in m.measure.indicators}
            assert linked and linked <= {i.id for i in full.indicators}
            context = build_context("effectiveness_report", partial.stage("EFF"))
            assert [r["code"] for r in context["indicator_rows"]] == [i.code for i in basis_indicators(partial)]
            assert "полного цикла механизма" in context["report"]["intro"]
            # The public pages show the same indicators, with the full cycle's values.
            lines = indicator_lines(partial)
            assert [line.indicator.id for line in lines] == [i.id for i in basis_indicators(partial)]
            assert any(line.value is not None for line in lines)
            login(editor)
            page = client.get(f"/effectiveness/cycles/{partial.id}").get_data(as_text=True)
            assert all(i.code in page for i in full.indicators)
            client.post("/logout")
        walked += 1
    assert walked == len(partial_tracks())


def test_a_partial_track_cannot_monitor_without_its_own_indicators(db_session, world):
    from app.catalogue.services import add_track

    mechanism = db.session.scalar(select(Mechanism).where(Mechanism.code == "M2.4"))
    with pytest.raises(ValidationFailed) as refused:
        add_track(mechanism, code="mon-only", title="Только мониторинг", blocks=["MON", "MEAS", "EFF"],
                  actor=world["admin"])
    assert "IND" in refused.value.message
    track = add_track(mechanism, code="ind-mon", title="Показатели и мониторинг", blocks=["IND", "MON", "EFF"],
                      actor=world["admin"])
    assert track.own_indicators and track.blocks == ["IND", "MON", "EFF"]
