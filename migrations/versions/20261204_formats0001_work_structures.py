"""Imports: work structures (task labels and maxima per work, in the order of the result form).

Revision ID: formats0001
Revises: d0c5tpl00007
Create Date: 2026-12-04 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'formats0001'
down_revision = 'd0c5tpl00007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'work_structures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('procedure', sa.String(length=10), nullable=False),
        sa.Column('year', sa.SmallInteger(), nullable=False),
        sa.Column('subject', sa.String(length=100), nullable=False),
        sa.Column('grade', sa.SmallInteger(), nullable=False),
        sa.Column('labels', sa.JSON(), nullable=False),
        sa.Column('maxima', sa.JSON(), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('import_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("source IN ('declared','file')", name=op.f('ck_work_structures_source')),
        sa.ForeignKeyConstraint(['import_id'], ['import_runs.id'], name=op.f('fk_work_structures_import_id_import_runs'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_work_structures')),
    )
    op.create_index('uq_work_structures_work', 'work_structures', ['procedure', 'year', 'subject', 'grade'],
                    unique=True)


def downgrade():
    op.drop_index('uq_work_structures_work', table_name='work_structures')
    op.drop_table('work_structures')
