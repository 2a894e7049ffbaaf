"""Auth: a log-in attempt says whether it was a log-in or a password re-entry (signing, «Ознакомлен», password
change), so wrong passwords typed at a signature no longer lock the log-in (they have their own count).

Revision ID: reauth0001
Revises: audience0001
Create Date: 2026-12-06 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'reauth0001'
down_revision = 'audience0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('login_attempts') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=10), nullable=False, server_default='login'))
        batch.create_check_constraint('kind', "kind IN ('login','reauth')")


def downgrade():
    with op.batch_alter_table('login_attempts') as batch:
        batch.drop_constraint('kind', type_='check')
        batch.drop_column('kind')
