"""Analysis: the parts of a fanned-out analysis run (one job per municipality, a combining job).

Revision ID: fanout0001
Revises: vertical0001
Create Date: 2026-12-04 08:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fanout0001'
down_revision = 'vertical0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'analysis_run_parts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('school_ids', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('rq_job_id', sa.String(length=80), nullable=True),
        sa.Column('rows', sa.Integer(), nullable=True),
        sa.Column('seconds', sa.Float(), nullable=True),
        sa.Column('data', sa.LargeBinary(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued','running','done','failed')",
                           name=op.f('ck_analysis_run_parts_status')),
        sa.CheckConstraint("(status IN ('done','failed')) = (finished_at IS NOT NULL)",
                           name=op.f('ck_analysis_run_parts_finished_iff_over')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_analysis_run_parts_organisation_id_organisations')),
        sa.ForeignKeyConstraint(['run_id'], ['analysis_runs.id'], ondelete='CASCADE',
                                name=op.f('fk_analysis_run_parts_run_id_analysis_runs')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_analysis_run_parts')),
    )
    op.create_index(op.f('ix_analysis_run_parts_run_id'), 'analysis_run_parts', ['run_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # Staged rows are written once, read once and cleared: compressing them costs more than it saves.
        op.execute("ALTER TABLE analysis_run_parts ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade():
    op.drop_index(op.f('ix_analysis_run_parts_run_id'), table_name='analysis_run_parts')
    op.drop_table('analysis_run_parts')
