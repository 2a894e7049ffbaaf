"""Organisations: a school's preschool groups (дошкольные группы), which make the preschool mechanisms concern it.

Revision ID: audience0001
Revises: auditidx0001
Create Date: 2026-12-06 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'audience0001'
down_revision = 'auditidx0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations') as batch:
        batch.add_column(sa.Column('preschool_groups', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('organisations') as batch:
        batch.drop_column('preschool_groups')
