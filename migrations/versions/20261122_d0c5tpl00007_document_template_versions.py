"""Documents: uploaded template versions (validated before activation); versions record their template.

Revision ID: d0c5tpl00007
Revises: d0c5pdf00006
Create Date: 2026-11-22 19:00:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'd0c5tpl00007'
down_revision = 'd0c5pdf00006'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
