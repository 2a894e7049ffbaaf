"""Effectiveness evaluation of measures and proposals for the next cycle.

Revision ID: eff00000e005
Revises: dead0000d004
Create Date: 2026-11-22 17:30:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'eff00000e005'
down_revision = 'dead0000d004'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
