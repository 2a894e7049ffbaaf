"""Documents: PDF copies of registered documents, converted once by LibreOffice.

Revision ID: d0c5pdf00006
Revises: eff00000e005
Create Date: 2026-11-22 19:00:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'd0c5pdf00006'
down_revision = 'eff00000e005'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
