"""Documents: types, documents, versions, signatures, registration journal.

Revision ID: d0c500000a01
Revises: a81701fba09d
Create Date: 2026-11-22 17:30:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'd0c500000a01'
down_revision = 'a81701fba09d'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
