"""Documents: one положение per cycle (track, owner and period) in the database.

`generate_document` refuses a second положение of the track and period, but two stages making it at the same moment
both passed that check; a partial unique index on (cycle_id, type_key) for the types kept once per cycle now refuses
the second INSERT (app/documents/models.py ONE_PER_CYCLE_TYPES).

Revision ID: docrules0001
Revises: docs0001
Create Date: 2026-12-04 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'docrules0001'
down_revision = 'docs0001'
branch_labels = None
depends_on = None

ONE_PER_CYCLE = "type_key IN ('regulation')"


def upgrade():
    op.create_index('uq_documents_cycle_one_per_cycle', 'documents', ['cycle_id', 'type_key'], unique=True,
                    sqlite_where=sa.text(ONE_PER_CYCLE), postgresql_where=sa.text(ONE_PER_CYCLE))


def downgrade():
    op.drop_index('uq_documents_cycle_one_per_cycle', table_name='documents')
