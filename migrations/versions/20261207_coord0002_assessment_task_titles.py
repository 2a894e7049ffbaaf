"""Assessment: the titles of the tasks of self-assessments and expert evaluations no longer repeat the mechanism and
the municipality (the task lists show both in their own columns): «Экспертная оценка: «Кампания»» instead of
«Экспертная оценка: M1.1, Муниципалитет — Кампания». Stored titles are rewritten, open and closed alike, in the one
transaction of the upgrade: all or none.

Revision ID: coord0002
Revises: coord0001
Create Date: 2026-12-07 01:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'coord0002'
down_revision = 'coord0001'
branch_labels = None
depends_on = None

# Task kind → the verb its title begins with (workflows/self_assessment.py, workflows/expert_evaluation.py).
VERBS = {
    "self_assess": "Самооценка механизма",
    "revise_self_assessment": "Доработать самооценку",
    "evaluate_mechanism": "Экспертная оценка",
    "revise_evaluation": "Доработать экспертную оценку",
    "approve_evaluation": "Утвердить экспертную оценку",
}
# Object type of the task → the table of that object (both carry campaign, municipality and mechanism).
TABLES = {"self_assessment": "assessment_self_assessments", "expert_evaluation": "assessment_assignments"}


def _rows(bind, object_type: str, table: str):
    # The names are the constants above, never input.
    return bind.execute(sa.text(
        f"SELECT t.id, t.kind, c.title, o.mechanism_code, COALESCE(m.short_name, m.name) "
        f"FROM tasks t JOIN {table} o ON o.id = t.object_id "
        "JOIN assessment_campaigns c ON c.id = o.campaign_id JOIN organisations m ON m.id = o.municipality_id "
        "WHERE t.object_type = :type"), {"type": object_type}).all()


def _retitle(title_of) -> None:
    bind = op.get_bind()
    for object_type, table in TABLES.items():
        for task_id, kind, campaign, code, municipality in _rows(bind, object_type, table):
            if kind in VERBS:
                bind.execute(sa.text("UPDATE tasks SET title = :title WHERE id = :id"),
                             {"title": title_of(VERBS[kind], campaign, code, municipality)[:500], "id": task_id})


def upgrade():
    _retitle(lambda verb, campaign, code, municipality: f"{verb}: «{campaign}»")


def downgrade():
    _retitle(lambda verb, campaign, code, municipality: f"{verb}: {code}, {municipality} — {campaign}")
