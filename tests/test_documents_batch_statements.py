"""The letters of one click cost a fixed handful of statements each, whatever their number: everything shared by
the letters (signer, approvers, template, the batch's versions, the audit chain head) is read once per click or
per batch, never once per letter (bench/documents.py measures the time; this guards the shape)."""

from datetime import date, timedelta

from app.documents import services
from app.extensions import db
from app.jobs.queue import dispatch_ready
from tests.conftest import TEST_DB
from tests.conftest import counted_statements


def _letters(stage, world, make_org, db_session, n: int) -> tuple[int, int]:
    """Statements of the click and of its jobs for `n` new addressees of one recommendation."""
    from app.followup.models import Recommendation, RecommendationItem

    schools = [make_org(parent=world["mun"]) for _ in range(n)]
    due = date.today() + timedelta(days=14)  # reply deadlines must lie after the letter's date
    recommendation = Recommendation(cycle_id=stage.cycle_id, stage_id=stage.id, text="Провести ВШК",
                                    addressee_group="organisations",
                                    response_deadline=due,
                                    created_by_id=world["official"].id)
    recommendation.items = [RecommendationItem(organisation_id=s.id, due_date=due) for s in schools]
    db_session.add(recommendation)
    db_session.commit()
    db.session.expire_all()  # as in a new request
    with counted_statements() as click:
        docs = services.generate_for_addressees(stage, "addressed_recommendations", actor=world["official"],
                                                addressees=services.recommendation_addressees(stage))
        db_session.commit()
    assert len(docs) == n
    with counted_statements() as jobs:
        dispatch_ready()
    db.session.expire_all()
    assert all(d.current.status == "done" for d in docs), [d.current.error for d in docs]
    return len(click), len(jobs)


def test_statements_per_letter_do_not_grow_with_the_letters(world, goal_stage, make_org, db_session, monkeypatch):
    rec = goal_stage.cycle.stage("REC")
    rec.state = "draft"
    db_session.commit()
    # One job per click (a batch as large as the click), so the jobs' counts compare batches of 5 and 15 letters.
    monkeypatch.setattr(services, "GENERATION_BATCH", 5)
    click_few, jobs_few = _letters(rec, world, make_org, db_session, 5)
    monkeypatch.setattr(services, "GENERATION_BATCH", 15)
    click_many, jobs_many = _letters(rec, world, make_org, db_session, 15)
    # The click reads every addressee's head and recommendation items at once (the data check) and inserts the
    # documents, their versions and their two audit events batched into one statement each on PostgreSQL, one row
    # each on SQLite (no ordered multi-row RETURNING there).
    per_click_letter = (click_many - click_few) / 10
    assert per_click_letter <= (0 if TEST_DB == "postgresql" else 4), (click_few, click_many)
    # A job: one claim, one load of its versions, one template, the addressees' heads and items read at once,
    # the versions' updates in one executemany, one commit — nothing per letter (before: the head and the items of
    # each addressee, and a savepoint around each letter).
    assert jobs_many == jobs_few, (jobs_few, jobs_many)
