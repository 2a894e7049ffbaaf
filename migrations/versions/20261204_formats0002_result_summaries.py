"""Imports: result summaries per school and per organisation above schools, per work (for region-wide pages);
filled from the results already stored.

Revision ID: formats0002
Revises: formats0001
Create Date: 2026-12-04 06:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'formats0002'
down_revision = 'formats0001'
branch_labels = None
depends_on = None

_MARKS = ", ".join(f"SUM(CASE WHEN r.mark = {m} THEN 1 ELSE 0 END)" for m in (2, 3, 4, 5))
_COLUMNS = ("organisation_id, level, procedure, year, subject, grade, participants, percent_sum, marked, "
            "mark_2, mark_3, mark_4, mark_5")


def upgrade():
    op.create_table(
        'result_summaries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('level', sa.String(length=6), nullable=False),
        sa.Column('procedure', sa.String(length=10), nullable=False),
        sa.Column('year', sa.SmallInteger(), nullable=False),
        sa.Column('subject', sa.String(length=100), nullable=False),
        sa.Column('grade', sa.SmallInteger(), nullable=False),
        sa.Column('participants', sa.Integer(), nullable=False),
        sa.Column('percent_sum', sa.Float(), nullable=False),
        sa.Column('marked', sa.Integer(), nullable=False),
        sa.Column('mark_2', sa.Integer(), nullable=False),
        sa.Column('mark_3', sa.Integer(), nullable=False),
        sa.Column('mark_4', sa.Integer(), nullable=False),
        sa.Column('mark_5', sa.Integer(), nullable=False),
        sa.CheckConstraint("level IN ('school','group')", name=op.f('ck_result_summaries_level')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_result_summaries_organisation_id_organisations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_result_summaries')),
    )
    op.create_index('uq_result_summaries_org_work', 'result_summaries',
                    ['organisation_id', 'procedure', 'year', 'subject', 'grade'], unique=True)
    op.create_index('ix_result_summaries_work', 'result_summaries', ['procedure', 'year', 'subject', 'grade'])
    # the same statements as app/imports/summaries.py, over every work at once
    op.execute(f"INSERT INTO result_summaries ({_COLUMNS}) "
               f"SELECT r.school_id, 'school', r.procedure, r.year, r.subject, r.grade, COUNT(*), "
               f"SUM(100.0 * r.primary_score / r.max_score), COUNT(r.mark), {_MARKS} "
               f"FROM assessment_results AS r GROUP BY r.school_id, r.procedure, r.year, r.subject, r.grade")
    op.execute(f"INSERT INTO result_summaries ({_COLUMNS}) "
               f"SELECT a.id, 'group', s.procedure, s.year, s.subject, s.grade, SUM(s.participants), "
               f"SUM(s.percent_sum), SUM(s.marked), SUM(s.mark_2), SUM(s.mark_3), SUM(s.mark_4), SUM(s.mark_5) "
               f"FROM result_summaries AS s JOIN organisations AS o ON o.id = s.organisation_id "
               f"JOIN organisations AS a ON o.path LIKE (a.path || '%') AND a.id <> o.id "
               f"WHERE s.level = 'school' GROUP BY a.id, s.procedure, s.year, s.subject, s.grade")


def downgrade():
    op.drop_index('ix_result_summaries_work', table_name='result_summaries')
    op.drop_index('uq_result_summaries_org_work', table_name='result_summaries')
    op.drop_table('result_summaries')
