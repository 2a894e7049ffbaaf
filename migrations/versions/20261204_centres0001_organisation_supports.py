"""Centres: the support relation (a methodical or assessment centre serves a municipality or the region) and the
role of a РЦОКО analyst.

Revision ID: centres0001
Revises: fanout0001
Create Date: 2026-12-04 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'centres0001'
down_revision = 'fanout0001'
branch_labels = None
depends_on = None

ROLES_BEFORE = "'admin','official','head','methodologist','director','staff','expert','auditor'"
ROLES_AFTER = "'admin','official','head','methodologist','director','staff','expert','analyst','auditor'"


def upgrade():
    op.create_table(
        'organisation_supports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('centre_id', sa.Integer(), nullable=False),
        sa.Column('supported_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('centre_id <> supported_id', name=op.f('ck_organisation_supports_not_itself')),
        sa.ForeignKeyConstraint(['centre_id'], ['organisations.id'],
                                name=op.f('fk_organisation_supports_centre_id_organisations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['supported_id'], ['organisations.id'],
                                name=op.f('fk_organisation_supports_supported_id_organisations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_supports')),
        sa.UniqueConstraint('centre_id', 'supported_id',
                            name=op.f('uq_organisation_supports_centre_id_supported_id')),
    )
    with op.batch_alter_table('organisation_supports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_supports_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_supports_supported_id'), ['supported_id'], unique=False)
    with op.batch_alter_table('role_assignments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_role_assignments_role'), type_='check')
        batch_op.create_check_constraint('role', f"role IN ({ROLES_AFTER})")


def downgrade():
    op.execute("DELETE FROM role_assignments WHERE role = 'analyst'")
    with op.batch_alter_table('role_assignments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_role_assignments_role'), type_='check')
        batch_op.create_check_constraint('role', f"role IN ({ROLES_BEFORE})")
    with op.batch_alter_table('organisation_supports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_supports_supported_id'))
        batch_op.drop_index(batch_op.f('ix_organisation_supports_centre_id'))
    op.drop_table('organisation_supports')
