"""Deadlines: notifications, reminders sent, stand-ins, calendar feed secrets.

Revision ID: dead0000d004
Revises: f011000c0003
Create Date: 2026-11-22 17:30:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'dead0000d004'
down_revision = 'f011000c0003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
