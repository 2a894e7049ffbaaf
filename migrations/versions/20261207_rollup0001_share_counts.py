"""Indicator values: the counts behind a share of organisations meeting the target (README, «The vertical»). A
municipality's value computed from its schools under «доля организаций, достигших целевого значения» keeps how many
of them met the target and of how many, so the region adds the counts up instead of taking a share of shares; one
computed as a weighted mean keeps the students of the schools counted, its weight at the region.
Nullable: every stored value is a value of the indicator itself until computed again.

Revision ID: rollup0001
Revises: apitoken0001
Create Date: 2026-12-07 10:35:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'rollup0001'
down_revision = 'apitoken0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisations_met', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('organisations_counted', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('students_counted', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.drop_column('students_counted')
        batch_op.drop_column('organisations_counted')
        batch_op.drop_column('organisations_met')
