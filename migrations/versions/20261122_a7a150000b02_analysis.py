"""Analysis: runs, precomputed aggregates, objectivity markers, findings.

Revision ID: a7a150000b02
Revises: d0c500000a01
Create Date: 2026-11-22 17:30:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'a7a150000b02'
down_revision = 'd0c500000a01'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
