"""Effectiveness evaluation of measures and proposals for the next cycle.

Revision ID: eff00000e005
Revises: dead0000d004
Create Date: 2026-11-22 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'eff00000e005'
down_revision = 'dead0000d004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('effectiveness_evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('conclusions', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_effectiveness_evaluations_created_by_id_users')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_effectiveness_evaluations_cycle_id_cycles'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stage_id'], ['stages.id'], name=op.f('fk_effectiveness_evaluations_stage_id_stages'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_effectiveness_evaluations')),
    sa.UniqueConstraint('cycle_id', name=op.f('uq_effectiveness_evaluations_cycle_id'))
    )
    with op.batch_alter_table('effectiveness_evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_effectiveness_evaluations_stage_id'), ['stage_id'], unique=False)

    op.create_table('effectiveness_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('computed', sa.String(length=20), nullable=False),
    sa.Column('override', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("computed IN ('moved','not_moved','not_measurable')",
                       name=op.f('ck_effectiveness_assessments_computed')),
    sa.CheckConstraint("override IS NULL OR override IN ('moved','not_moved','not_measurable')",
                       name=op.f('ck_effectiveness_assessments_override')),
    sa.CheckConstraint('override IS NULL OR note IS NOT NULL',
                       name=op.f('ck_effectiveness_assessments_note_if_override')),
    sa.ForeignKeyConstraint(['evaluation_id'], ['effectiveness_evaluations.id'],
                            name=op.f('fk_effectiveness_assessments_evaluation_id_effectiveness_evaluations'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['measure_id'], ['measures.id'],
                            name=op.f('fk_effectiveness_assessments_measure_id_measures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_effectiveness_assessments')),
    sa.UniqueConstraint('evaluation_id', 'measure_id',
                        name=op.f('uq_effectiveness_assessments_evaluation_id_measure_id'))
    )
    with op.batch_alter_table('effectiveness_assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_effectiveness_assessments_evaluation_id'), ['evaluation_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_effectiveness_assessments_measure_id'), ['measure_id'], unique=False)

    op.create_table('effectiveness_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=True),
    sa.Column('new_target', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('applied_cycle_id', sa.Integer(), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('goal','indicator_correction')", name=op.f('ck_effectiveness_proposals_kind')),
    sa.CheckConstraint("kind = 'goal' OR new_target IS NOT NULL",
                       name=op.f('ck_effectiveness_proposals_target_of_correction')),
    sa.CheckConstraint('(applied_cycle_id IS NULL) = (applied_at IS NULL)',
                       name=op.f('ck_effectiveness_proposals_applied_at_iff_applied')),
    sa.ForeignKeyConstraint(['applied_cycle_id'], ['cycles.id'],
                            name=op.f('fk_effectiveness_proposals_applied_cycle_id_cycles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_effectiveness_proposals_created_by_id_users')),
    sa.ForeignKeyConstraint(['evaluation_id'], ['effectiveness_evaluations.id'],
                            name=op.f('fk_effectiveness_proposals_evaluation_id_effectiveness_evaluations'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'],
                            name=op.f('fk_effectiveness_proposals_indicator_id_indicators'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_effectiveness_proposals'))
    )
    with op.batch_alter_table('effectiveness_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_effectiveness_proposals_evaluation_id'), ['evaluation_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('effectiveness_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_effectiveness_proposals_evaluation_id'))
    op.drop_table('effectiveness_proposals')
    with op.batch_alter_table('effectiveness_assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_effectiveness_assessments_measure_id'))
        batch_op.drop_index(batch_op.f('ix_effectiveness_assessments_evaluation_id'))
    op.drop_table('effectiveness_assessments')
    with op.batch_alter_table('effectiveness_evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_effectiveness_evaluations_stage_id'))
    op.drop_table('effectiveness_evaluations')
