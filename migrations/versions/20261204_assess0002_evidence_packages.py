"""Evidence packages of the assessment of municipal mechanisms: the tracked row of the job that builds the ZIP.

Revision ID: assess0002
Revises: centres0001
Create Date: 2026-12-04 12:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'assess0002'
down_revision = 'centres0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assessment_packages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('progress', sa.SmallInteger(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('path', sa.String(length=500), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('files', sa.Integer(), nullable=True),
    sa.Column('problems', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'done') = (sha256 IS NOT NULL)", name=op.f('ck_assessment_packages_sha256_iff_done')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_assessment_packages_progress')),
    sa.CheckConstraint("status IN ('queued','running','done','failed')", name=op.f('ck_assessment_packages_status')),
    sa.ForeignKeyConstraint(['campaign_id'], ['assessment_campaigns.id'], name=op.f('fk_assessment_packages_campaign_id_assessment_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['municipality_id'], ['organisations.id'], name=op.f('fk_assessment_packages_municipality_id_organisations')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_assessment_packages_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_packages'))
    )
    with op.batch_alter_table('assessment_packages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_packages_campaign_id'), ['campaign_id'], unique=False)


def downgrade():
    with op.batch_alter_table('assessment_packages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_packages_campaign_id'))
    op.drop_table('assessment_packages')
