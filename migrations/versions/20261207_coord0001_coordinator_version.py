"""Assessment: a campaign's municipality row carries a version, so that two managers appointing its coordinator at
once do not silently overwrite each other (the second «Назначить» is refused as stale and shows the first one's).

Revision ID: coord0001
Revises: reauth0001
Create Date: 2026-12-07 01:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'coord0001'
down_revision = 'reauth0001'
branch_labels = None
depends_on = None


def upgrade():
    # Existing rows start at version 1, as new ones do (the model's default).
    with op.batch_alter_table('assessment_campaign_municipalities') as batch:
        batch.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade():
    with op.batch_alter_table('assessment_campaign_municipalities') as batch:
        batch.drop_column('version')
