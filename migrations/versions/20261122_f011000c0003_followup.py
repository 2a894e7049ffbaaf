"""Follow-up: addressed recommendations, measures, management decisions.

Revision ID: f011000c0003
Revises: a7a150000b02
Create Date: 2026-11-22 17:30:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'f011000c0003'
down_revision = 'a7a150000b02'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
