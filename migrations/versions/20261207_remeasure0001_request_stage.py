"""Data requests: the stage whose request it is — «MON» (monitoring) or «EFF», the repeat measurement of the
indicators after the measures, collected while the effectiveness stage is a draft (README, «Monitoring: data
requests»). Every existing request is a monitoring one.

Revision ID: remeasure0001
Revises: rollup0001
Create Date: 2026-12-07 11:25:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'remeasure0001'
down_revision = 'rollup0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('data_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage_code', sa.String(length=8), server_default='MON', nullable=False))


def downgrade():
    with op.batch_alter_table('data_requests', schema=None) as batch_op:
        batch_op.drop_column('stage_code')
