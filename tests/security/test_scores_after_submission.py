"""Scores and evidence of the 08-70 assessment are written only while their self-assessment or evaluation is still a
draft (attack 6). The check read the state the request had loaded; the scores are rows of their own, so a save that
raced a «submit» (a second tab, a double click on two buttons) wrote the scores after submission — the expert was
handed a self-assessment other than the one submitted, the head approved an evaluation that changed underneath.
The save now pins the object's version (workflows.engine.pin): refused as stale, nothing written."""

from datetime import date

import pytest
from sqlalchemy import func, select, update

from app.assessment.models import Assignment, SelfAssessment
from app.core.errors import StaleObject
from tests.test_assessment import _entries, assess  # noqa: F401  (fixture)


def _submitted_meanwhile(db_session, model, obj_id: int) -> None:
    """Another request fired «submit» and committed after this one loaded the object (a Core UPDATE: the ORM
    object this request holds keeps the state and version it read)."""
    db_session.execute(update(model.__table__).where(model.__table__.c.id == obj_id)
                       .values(state="submitted", version=model.__table__.c.version + 1))


def test_self_scores_are_not_written_after_a_concurrent_submit(world, assess, db_session):  # noqa: F811
    from app.assessment import services
    from app.assessment.models import Score

    sa = assess["sa"]
    scores = services.scores_of(sa.campaign, sa.municipality_id, "M1.1")
    _submitted_meanwhile(db_session, SelfAssessment, sa.id)
    with pytest.raises(StaleObject):
        services.save_self_scores(sa, actor=world["official"], entries=_entries(scores, points=1),
                                  today=date.today())
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Score).where(
        Score.campaign_id == sa.campaign_id, Score.self_points.is_not(None))) == 0


def test_expert_scores_are_not_written_after_a_concurrent_submit(world, assess, db_session):  # noqa: F811
    from app.assessment import services
    from app.assessment.models import Score

    assignment = assess["assignment"]
    score = services.scores_of(assignment.campaign, assignment.municipality_id, "M1.1")[0]
    _submitted_meanwhile(db_session, Assignment, assignment.id)
    with pytest.raises(StaleObject):
        services.save_expert_scores(assignment, actor=world["expert"], today=date.today(),
                                    entries={score.id: ("1", "", score.version)})
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Score).where(
        Score.campaign_id == assignment.campaign_id, Score.expert_points.is_not(None))) == 0


def test_evidence_is_not_added_after_a_concurrent_submit(world, assess, db_session):  # noqa: F811
    from app.assessment import services
    from app.assessment.models import EvidenceItem

    sa = assess["sa"]
    criterion = services.scores_of(sa.campaign, sa.municipality_id, "M1.1")[0].criterion
    before = db_session.scalar(select(func.count()).select_from(EvidenceItem))
    _submitted_meanwhile(db_session, SelfAssessment, sa.id)
    with pytest.raises(StaleObject):
        services.add_evidence(sa, actor=world["official"], criterion_id=str(criterion.id), comment="",
                              document_id=None, stream=None, filename=None)
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(EvidenceItem)) == before


def test_a_save_moves_the_version_on_so_a_stale_submit_is_refused(world, assess, db_session):  # noqa: F811
    from app.assessment import services

    sa = assess["sa"]
    seen = sa.version
    scores = services.scores_of(sa.campaign, sa.municipality_id, "M1.1")
    services.save_self_scores(sa, actor=world["official"], entries=_entries(scores), today=date.today())
    db_session.commit()
    assert sa.version == seen + 1 and sa.state == "draft"
    with pytest.raises(StaleObject):
        services.transition_self(sa, "submit", actor=world["official"], today=date.today(), expected_version=seen)


@pytest.mark.parametrize("version", ["abc", "-1", "1e3", "²"])
def test_a_version_that_is_not_a_number_is_refused_not_skipped(world, assess, client, login, db_session,  # noqa: F811
                                                               version):
    """The assessment forms read a malformed version as «none sent», which skips the staleness check: a form
    rendered before another tab's changes went through. Refused now, as VersionField refuses it elsewhere."""
    from app.assessment import services
    from app.assessment.models import Score

    sa = assess["sa"]
    scores = services.scores_of(sa.campaign, sa.municipality_id, "M1.1")
    services.save_self_scores(sa, actor=world["official"], entries=_entries(scores), today=date.today())
    db_session.commit()
    seen = sa.version
    login(world["official"])
    page = client.post(f"/assessment/self/{sa.id}/transition", data={"trigger": "submit", "version": version})
    assert page.status_code in (303, 409, 422)
    db_session.expire_all()
    assert (sa.state, sa.version) == ("draft", seen)
    follow = client.get(f"/assessment/self/{sa.id}")
    assert "Некорректная версия формы" in follow.get_data(as_text=True) or "Некорректная версия формы" in \
        page.get_data(as_text=True)
    score = scores[0]
    other = "1" if score.proposed_points != 1 else "0"
    data = {"version": str(seen), f"points-{score.id}": other, f"comment-{score.id}": "",
            f"version-{score.id}": version}
    client.post(f"/assessment/self/{sa.id}/scores", data=data)
    db_session.expire_all()
    assert db_session.get(Score, score.id).self_points == score.proposed_points
