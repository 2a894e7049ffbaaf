"""Follow-up: addressed recommendations, measures, management decisions.

Revision ID: f011000c0003
Revises: a7a150000b02
Create Date: 2026-11-22 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f011000c0003'
down_revision = 'a7a150000b02'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=False),
    sa.Column('participants', sa.Text(), nullable=True),
    sa.Column('basis', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('execution_note', sa.Text(), nullable=True),
    sa.Column('adopted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('adopted_by_id', sa.Integer(), nullable=True),
    sa.Column('executed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(state = 'draft') = (adopted_at IS NULL)", name=op.f('ck_decisions_adopted_at_iff_adopted')),
    sa.CheckConstraint("(state = 'verified') = (verified_at IS NOT NULL)", name=op.f('ck_decisions_verified_at_iff_verified')),
    sa.CheckConstraint("(state IN ('executed','verified')) = (executed_at IS NOT NULL)", name=op.f('ck_decisions_executed_at_iff_executed')),
    sa.CheckConstraint("kind IN ('organisational','staff','financial','incentive','corrective')", name=op.f('ck_decisions_kind')),
    sa.CheckConstraint("state IN ('draft','adopted','executed','verified')", name=op.f('ck_decisions_state')),
    sa.CheckConstraint('(adopted_at IS NULL) = (adopted_by_id IS NULL)', name=op.f('ck_decisions_adopted_by_iff_adopted')),
    sa.ForeignKeyConstraint(['adopted_by_id'], ['users.id'], name=op.f('fk_decisions_adopted_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_decisions_created_by_id_users')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_decisions_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['responsible_id'], ['users.id'], name=op.f('fk_decisions_responsible_id_users')),
    sa.ForeignKeyConstraint(['stage_id'], ['stages.id'], name=op.f('fk_decisions_stage_id_stages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decisions_responsible_id'), ['responsible_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decisions_stage_id'), ['stage_id'], unique=False)

    op.create_table('measures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=False),
    sa.Column('participants', sa.Text(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('expected_result', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('result_note', sa.Text(), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(state = 'cancelled') = (cancel_reason IS NOT NULL)", name=op.f('ck_measures_reason_iff_cancelled')),
    sa.CheckConstraint("(state = 'verified') = (verified_at IS NOT NULL)", name=op.f('ck_measures_verified_at_iff_verified')),
    sa.CheckConstraint("(state IN ('done','verified')) = (done_at IS NOT NULL)", name=op.f('ck_measures_done_at_iff_done')),
    sa.CheckConstraint("kind IN ('event','training','methodical_support','monitoring','inspection','mentoring','network','other')", name=op.f('ck_measures_kind')),
    sa.CheckConstraint("state IN ('planned','in_progress','done','verified','cancelled')", name=op.f('ck_measures_state')),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_measures_end_not_before_start')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_measures_created_by_id_users')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_measures_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['responsible_id'], ['users.id'], name=op.f('fk_measures_responsible_id_users')),
    sa.ForeignKeyConstraint(['stage_id'], ['stages.id'], name=op.f('fk_measures_stage_id_stages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], name=op.f('fk_measures_verified_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measures'))
    )
    with op.batch_alter_table('measures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measures_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_measures_responsible_id'), ['responsible_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_measures_stage_id'), ['stage_id'], unique=False)

    op.create_table('recommendations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('addressee_group', sa.String(length=30), nullable=False),
    sa.Column('addressee_note', sa.String(length=300), nullable=True),
    sa.Column('basis', sa.Text(), nullable=True),
    sa.Column('response_deadline', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("addressee_group IN ('organisations','cluster','directors','subject_teachers','methodical_centre','parents')", name=op.f('ck_recommendations_addressee_group')),
    sa.CheckConstraint('(issued_at IS NULL) = (issued_by_id IS NULL)', name=op.f('ck_recommendations_issued_by_iff_issued')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_recommendations_created_by_id_users')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_recommendations_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_recommendations_issued_by_id_users')),
    sa.ForeignKeyConstraint(['stage_id'], ['stages.id'], name=op.f('fk_recommendations_stage_id_stages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendations'))
    )
    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommendations_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recommendations_stage_id'), ['stage_id'], unique=False)

    op.create_table('decision_measures',
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_decision_measures_decision_id_decisions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['measure_id'], ['measures.id'], name=op.f('fk_decision_measures_measure_id_measures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('decision_id', 'measure_id', name=op.f('pk_decision_measures'))
    )
    with op.batch_alter_table('decision_measures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_measures_measure_id'), ['measure_id'], unique=False)

    op.create_table('measure_indicators',
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_measure_indicators_indicator_id_indicators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['measure_id'], ['measures.id'], name=op.f('fk_measure_indicators_measure_id_measures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('measure_id', 'indicator_id', name=op.f('pk_measure_indicators'))
    )
    with op.batch_alter_table('measure_indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measure_indicators_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('measure_recommendations',
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['measure_id'], ['measures.id'], name=op.f('fk_measure_recommendations_measure_id_measures'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_measure_recommendations_recommendation_id_recommendations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('measure_id', 'recommendation_id', name=op.f('pk_measure_recommendations'))
    )
    with op.batch_alter_table('measure_recommendations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measure_recommendations_recommendation_id'), ['recommendation_id'], unique=False)

    op.create_table('recommendation_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('action_plan', sa.Text(), nullable=True),
    sa.Column('planned_completion', sa.Date(), nullable=True),
    sa.Column('report', sa.Text(), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('return_comment', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(state = 'accepted') = (accepted_at IS NOT NULL)", name=op.f('ck_recommendation_items_accepted_at_iff_accepted')),
    sa.CheckConstraint("(state = 'draft') = (issued_at IS NULL)", name=op.f('ck_recommendation_items_issued_at_iff_issued')),
    sa.CheckConstraint("(state IN ('draft','issued')) = (acknowledged_at IS NULL)", name=op.f('ck_recommendation_items_acknowledged_at_iff_acknowledged')),
    sa.CheckConstraint("state != 'returned' OR return_comment IS NOT NULL", name=op.f('ck_recommendation_items_comment_when_returned')),
    sa.CheckConstraint("state IN ('draft','issued','acknowledged','in_progress','reported','accepted','returned')", name=op.f('ck_recommendation_items_state')),
    sa.CheckConstraint("state NOT IN ('in_progress','reported','accepted','returned') OR action_plan IS NOT NULL", name=op.f('ck_recommendation_items_action_plan_when_in_progress')),
    sa.CheckConstraint("state NOT IN ('reported','accepted') OR (report IS NOT NULL AND reported_at IS NOT NULL)", name=op.f('ck_recommendation_items_report_when_reported')),
    sa.CheckConstraint('(acknowledged_at IS NULL) = (acknowledged_by_id IS NULL)', name=op.f('ck_recommendation_items_acknowledged_by_iff_acknowledged')),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], name=op.f('fk_recommendation_items_accepted_by_id_users')),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_recommendation_items_acknowledged_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_recommendation_items_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_recommendation_items_recommendation_id_recommendations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_recommendation_items_reported_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendation_items')),
    sa.UniqueConstraint('recommendation_id', 'organisation_id', name=op.f('uq_recommendation_items_recommendation_id_organisation_id'))
    )
    with op.batch_alter_table('recommendation_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommendation_items_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recommendation_items_recommendation_id'), ['recommendation_id'], unique=False)

    op.create_table('decision_findings',
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_decision_findings_decision_id_decisions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['finding_id'], ['findings.id'], name=op.f('fk_decision_findings_finding_id_findings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('decision_id', 'finding_id', name=op.f('pk_decision_findings'))
    )
    with op.batch_alter_table('decision_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_findings_finding_id'), ['finding_id'], unique=False)

    op.create_table('measure_findings',
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['finding_id'], ['findings.id'], name=op.f('fk_measure_findings_finding_id_findings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['measure_id'], ['measures.id'], name=op.f('fk_measure_findings_measure_id_measures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('measure_id', 'finding_id', name=op.f('pk_measure_findings'))
    )
    with op.batch_alter_table('measure_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measure_findings_finding_id'), ['finding_id'], unique=False)

    op.create_table('recommendation_findings',
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['finding_id'], ['findings.id'], name=op.f('fk_recommendation_findings_finding_id_findings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_recommendation_findings_recommendation_id_recommendations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('recommendation_id', 'finding_id', name=op.f('pk_recommendation_findings'))
    )
    with op.batch_alter_table('recommendation_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommendation_findings_finding_id'), ['finding_id'], unique=False)


def downgrade():
    op.drop_table('recommendation_findings')
    op.drop_table('measure_findings')
    op.drop_table('decision_findings')
    op.drop_table('recommendation_items')
    op.drop_table('measure_recommendations')
    op.drop_table('measure_indicators')
    op.drop_table('decision_measures')
    op.drop_table('recommendations')
    op.drop_table('measures')
    op.drop_table('decisions')
