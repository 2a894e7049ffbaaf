"""Analysis: charts stored as SVG under the hash of their data (drawn once per data change).

Revision ID: charts0001
Revises: audit0001
Create Date: 2026-12-04 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'charts0001'
down_revision = 'audit0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'analysis_charts',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=True),
        sa.Column('svg', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_analysis_charts_cycle_id_cycles'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_analysis_charts')),
    )
    with op.batch_alter_table('analysis_charts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analysis_charts_cycle_id'), ['cycle_id'], unique=False)


def downgrade():
    with op.batch_alter_table('analysis_charts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analysis_charts_cycle_id'))
    op.drop_table('analysis_charts')
