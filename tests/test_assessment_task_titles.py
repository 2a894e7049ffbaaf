"""The tasks of an assessment name what to do and in which campaign, not the mechanism and the municipality a
second time: the task lists show those in their own columns («Экспертная оценка: M1.1, Тестовый муниципалитет —
Мониторинг механизмов 2026 | M1.1 | Тестовый муниципалитет» on every row). Stored titles are rewritten by the
migration coord0002 (and back by its downgrade)."""

import importlib.util
from pathlib import Path

import lxml.html
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import select

from tests.access_cases.assessment import make_campaign

MIGRATION = Path(__file__).resolve().parent.parent / "migrations" / "versions" \
    / "20261207_coord0002_assessment_task_titles.py"


def _migration():
    spec = importlib.util.spec_from_file_location("coord0002", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(db_session, step: str) -> None:
    """The migration's upgrade or downgrade on the test's own connection (and transaction)."""
    with Operations.context(MigrationContext.configure(db_session.connection())):
        getattr(_migration(), step)()


def test_the_task_list_names_the_mechanism_and_municipality_once(world, db_session, client_for):
    campaign, _manager, _expert = make_campaign(world, db_session)
    db_session.commit()
    page = lxml.html.fromstring(client_for(world["expert"]).get("/tasks/").get_data(as_text=True))
    (row,) = [r for r in page.xpath("//table[@id='task-table']/tbody/tr") if r.xpath(".//a")]
    title, mechanism, organisation = (" ".join(c.text_content().split()) for c in row.xpath("./td")[1:4])
    assert title == f"Экспертная оценка: «{campaign.title}»"
    assert (mechanism, organisation) == ("M1.1", world["mun"].display_name)


def test_stored_assessment_task_titles_are_rewritten_all_at_once(world, db_session):
    from app.tasks.models import Task

    campaign, _manager, _expert = make_campaign(world, db_session)
    mun = world["mun"].display_name
    tasks = db_session.scalars(select(Task).where(Task.object_type.in_(("self_assessment", "expert_evaluation")))
                               .order_by(Task.kind)).all()
    assert {t.kind for t in tasks} == {"evaluate_mechanism", "self_assess"}

    _run(db_session, "downgrade")  # the titles as the old code stored them
    db_session.expire_all()
    assert [t.title for t in tasks] == [f"Экспертная оценка: M1.1, {mun} — {campaign.title}",
                                        f"Самооценка механизма: M1.1, {mun} — {campaign.title}"]

    _run(db_session, "upgrade")
    db_session.expire_all()
    assert [t.title for t in tasks] == [f"Экспертная оценка: «{campaign.title}»",
                                        f"Самооценка механизма: «{campaign.title}»"]
