"""Analysis: runs and stored results, dashboard rows, findings, school risk profiles.

Revision ID: a7a150000b02
Revises: d0c500000a01
Create Date: 2026-11-22 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7a150000b02'
down_revision = 'd0c500000a01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('risk_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('priorities', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=4), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("source IN ('form','csv')", name=op.f('ck_risk_profiles_source')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_risk_profiles_entered_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_risk_profiles_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_profiles')),
    sa.UniqueConstraint('organisation_id', 'year', name=op.f('uq_risk_profiles_organisation_id_year'))
    )
    with op.batch_alter_table('risk_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_profiles_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('analysis_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('years', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('progress', sa.SmallInteger(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('rq_job_id', sa.String(length=64), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('params', sa.JSON(), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status IN ('done','failed')) = (finished_at IS NOT NULL)", name=op.f('ck_analysis_runs_finished_iff_over')),
    sa.CheckConstraint("status IN ('queued','running','done','failed')", name=op.f('ck_analysis_runs_status')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_analysis_runs_progress')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_analysis_runs_created_by_id_users')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_analysis_runs_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_analysis_runs_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analysis_runs'))
    )
    with op.batch_alter_table('analysis_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analysis_runs_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_analysis_runs_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('analysis_dashboard_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('is_total', sa.Boolean(), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('previous_value', sa.Float(), nullable=True),
    sa.Column('change_previous', sa.Float(), nullable=True),
    sa.Column('change_baseline', sa.Float(), nullable=True),
    sa.Column('attainment', sa.Float(), nullable=True),
    sa.Column('target_met', sa.Boolean(), nullable=True),
    sa.Column('cluster', sa.Integer(), nullable=True),
    sa.Column('cluster_mean', sa.Float(), nullable=True),
    sa.Column('cluster_z', sa.Float(), nullable=True),
    sa.Column('cluster_position', sa.String(length=100), nullable=True),
    sa.Column('history', sa.JSON(), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_analysis_dashboard_rows_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_analysis_dashboard_rows_indicator_id_indicators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_analysis_dashboard_rows_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analysis_dashboard_rows')),
    sa.UniqueConstraint('cycle_id', 'indicator_id', 'organisation_id', name=op.f('uq_analysis_dashboard_rows_cycle_id_indicator_id_organisation_id'))
    )
    with op.batch_alter_table('analysis_dashboard_rows', schema=None) as batch_op:
        batch_op.create_index('ix_analysis_dashboard_rows_cycle', ['cycle_id', 'indicator_id'], unique=False)

    op.create_table('analysis_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('year', sa.SmallInteger(), nullable=True),
    sa.Column('procedure', sa.String(length=10), nullable=True),
    sa.Column('subject', sa.String(length=100), nullable=True),
    sa.Column('grade', sa.SmallInteger(), nullable=True),
    sa.Column('sign', sa.String(length=10), nullable=True),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['analysis_runs.id'], name=op.f('fk_analysis_results_run_id_analysis_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['organisations.id'], name=op.f('fk_analysis_results_school_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analysis_results'))
    )
    with op.batch_alter_table('analysis_results', schema=None) as batch_op:
        batch_op.create_index('ix_analysis_results_run_kind', ['run_id', 'kind'], unique=False)
        batch_op.create_index('ix_analysis_results_run_school', ['run_id', 'school_id'], unique=False)

    op.create_table('findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('causes', sa.Text(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('analysis_run_id', sa.Integer(), nullable=True),
    sa.Column('source_result_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['analysis_run_id'], ['analysis_runs.id'], name=op.f('fk_findings_analysis_run_id_analysis_runs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_findings_created_by_id_users')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_findings_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_result_id'], ['analysis_results.id'], name=op.f('fk_findings_source_result_id_analysis_results'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stage_id'], ['stages.id'], name=op.f('fk_findings_stage_id_stages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_findings'))
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_findings_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_findings_stage_id'), ['stage_id'], unique=False)

    op.create_table('finding_organisations',
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['finding_id'], ['findings.id'], name=op.f('fk_finding_organisations_finding_id_findings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_finding_organisations_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('finding_id', 'organisation_id', name=op.f('pk_finding_organisations'))
    )
    with op.batch_alter_table('finding_organisations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_organisations_organisation_id'), ['organisation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('finding_organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_organisations_organisation_id'))

    op.drop_table('finding_organisations')
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_findings_stage_id'))
        batch_op.drop_index(batch_op.f('ix_findings_cycle_id'))

    op.drop_table('findings')
    with op.batch_alter_table('analysis_results', schema=None) as batch_op:
        batch_op.drop_index('ix_analysis_results_run_school')
        batch_op.drop_index('ix_analysis_results_run_kind')

    op.drop_table('analysis_results')
    with op.batch_alter_table('analysis_dashboard_rows', schema=None) as batch_op:
        batch_op.drop_index('ix_analysis_dashboard_rows_cycle')

    op.drop_table('analysis_dashboard_rows')
    with op.batch_alter_table('analysis_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analysis_runs_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_analysis_runs_cycle_id'))

    op.drop_table('analysis_runs')
    with op.batch_alter_table('risk_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_profiles_organisation_id'))

    op.drop_table('risk_profiles')
