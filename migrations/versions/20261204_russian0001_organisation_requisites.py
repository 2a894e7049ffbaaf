"""Organisations: requisites for the бланк of letters (address, phone, e-mail, website, ОКПО, ОГРН, ИНН, КПП, the
head's position title, an emblem).

Revision ID: russian0001
Revises: charts0001
Create Date: 2026-12-04 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'russian0001'
down_revision = 'charts0001'
branch_labels = None
depends_on = None

COLUMNS = (("address", 500), ("phone", 100), ("email", 200), ("website", 200), ("okpo", 10), ("ogrn", 15),
           ("inn", 12), ("kpp", 9), ("head_position", 200))


def upgrade():
    with op.batch_alter_table('organisations') as batch:
        for name, length in COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length=length), nullable=True))
        batch.add_column(sa.Column('emblem', sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column('emblem_sha256', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('organisations') as batch:
        batch.drop_column('emblem_sha256')
        batch.drop_column('emblem')
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
