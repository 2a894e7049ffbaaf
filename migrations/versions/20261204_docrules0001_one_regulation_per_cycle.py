"""Documents: one положение per cycle (track, owner and period) in the database.

`generate_document` refuses a second положение of the track and period, but two stages making it at the same moment
both passed that check; a partial unique index on (cycle_id, type_key) for the types kept once per cycle now refuses
the second INSERT (app/documents/models.py ONE_PER_CYCLE_TYPES).

A database where the race already happened holds two положения of one cycle, and the index cannot be built. The
upgrade then stops before changing anything and names the cycles and documents: which one is the cycle's
положение is the authority's decision (either may be signed or registered), and documents are never deleted by a
migration.

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


def _refuse_existing_duplicates():
    duplicates = op.get_bind().execute(sa.text(
        "SELECT cycle_id, type_key, COUNT(*) AS n, MIN(id) AS first_id, MAX(id) AS last_id FROM documents "
        f"WHERE cycle_id IS NOT NULL AND {ONE_PER_CYCLE} GROUP BY cycle_id, type_key HAVING COUNT(*) > 1 "
        "ORDER BY cycle_id")).all()
    if duplicates:
        listed = "; ".join(f"цикл {row.cycle_id}: {row.n} документа (id {row.first_id} … {row.last_id})"
                           for row in duplicates)
        raise RuntimeError(
            "Миграция docrules0001 не выполнена, база данных не изменена: в некоторых циклах несколько положений "
            f"({listed}). Миграция документы не удаляет: оставьте в каждом цикле одно положение (какое — решает "
            "орган управления образованием) и повторите «flask db upgrade».")


def upgrade():
    _refuse_existing_duplicates()
    op.create_index('uq_documents_cycle_one_per_cycle', 'documents', ['cycle_id', 'type_key'], unique=True,
                    sqlite_where=sa.text(ONE_PER_CYCLE), postgresql_where=sa.text(ONE_PER_CYCLE))


def downgrade():
    op.drop_index('uq_documents_cycle_one_per_cycle', table_name='documents')
