"""An evidence package an expert takes holds no self-assessment the expert may not see yet (attack 9 on the running
server).

An expert sees a municipality's self-assessment once its coordinator has submitted it: not a draft, nor one returned
for revision (`Scope.shows_self`), and asking for a package while one is a draft was refused. But a package the
region's specialist (who reads everything) collected while the coordinator revised a returned self-assessment was
handed to the assigned expert as it was: its scores.csv carried the revision's points and its audit.csv the
coordinator's comments in progress. The expert now takes a municipality's package only when none of its
self-assessments is a draft or returned, and none was submitted after the package was collected."""

from datetime import timedelta

from sqlalchemy import select, update

from app.assessment.models import Score, SelfAssessment
from app.core.timeutil import utcnow
from tests.test_assessment_package import scored  # noqa: F401  (fixture; client_for is tests/fixtures_followup.py's)

REVISION = "черновик доработки координатора"


def _collect(client, campaign, municipality_id, db_session):
    from app.assessment import package
    from app.jobs.queue import dispatch_ready

    response = client.post(f"/assessment/campaigns/{campaign.id}/packages/request",
                           data={"municipality_id": str(municipality_id)})
    assert response.status_code == 303, response.status_code
    dispatch_ready()
    row = db_session.scalars(select(package.EvidencePackage).order_by(package.EvidencePackage.id.desc())).first()
    db_session.refresh(row)
    assert row.status == "done"
    return f"/assessment/packages/{row.id}/download"


def _set_self(db_session, campaign, mun_id, **values):
    db_session.execute(update(SelfAssessment).where(SelfAssessment.campaign_id == campaign.id,
                                                    SelfAssessment.municipality_id == mun_id).values(**values))
    db_session.commit()


def test_an_expert_takes_no_package_with_a_self_assessment_being_revised(world, scored, client_for,  # noqa: F811
                                                                         db_session):
    campaign, mun = scored["campaign"], world["mun"]
    # Returned to the coordinator, who is revising it: a comment in progress.
    _set_self(db_session, campaign, mun.id, state="returned", return_comment="Уточните баллы",
              submitted_at=utcnow() - timedelta(days=2))
    db_session.execute(update(Score).where(Score.campaign_id == campaign.id, Score.municipality_id == mun.id)
                       .values(self_comment=REVISION))
    db_session.commit()
    expert, auditor = client_for(world["expert"]), client_for(world["auditor"])
    assert REVISION not in expert.get(f"/assessment/campaigns/{campaign.id}").get_data(as_text=True)

    old = _collect(auditor, campaign, mun.id, db_session)
    response = expert.get(old)
    assert response.status_code == 422
    assert "самооценка по механизму M1.1 ещё не представлена координатором" in response.get_data(as_text=True)
    assert auditor.get(old).status_code == 200  # a reader of the whole campaign takes it (the coordinator does not
    # while the expert's evaluation is unsent: test_assessment_package.py)

    # Submitted again: the package collected during the revision is still refused, a new one is taken.
    _set_self(db_session, campaign, mun.id, state="submitted", return_comment=None,
              submitted_at=utcnow())
    response = expert.get(old)
    assert response.status_code == 422 and "представил после того, как пакет был запрошен" in response.get_data(
        as_text=True)
    assert expert.get(_collect(auditor, campaign, mun.id, db_session)).status_code == 200
