"""Documents: an owner other than a cycle's stage (an assessment campaign, a municipality of it).

A document either belongs to a stage (cycle_id, stage_id, as before) or to an owner named by its audit type and id,
with the organisation that issues it (its journals number the document, its subtree reads it).

Revision ID: docs0001
Revises: cosign0001
Create Date: 2026-12-04 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'docs0001'
down_revision = 'cosign0001'
branch_labels = None
depends_on = None

OWNER_CHECK = ("(stage_id IS NOT NULL AND cycle_id IS NOT NULL AND owner_type IS NULL) OR "
               "(stage_id IS NULL AND cycle_id IS NULL AND owner_type IS NOT NULL AND owner_id IS NOT NULL "
               "AND organisation_id IS NOT NULL)")


def upgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_type', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.alter_column('cycle_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('stage_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(op.f('fk_documents_organisation_id_organisations'), 'organisations',
                                    ['organisation_id'], ['id'])
        batch_op.create_check_constraint(op.f('ck_documents_owner'), sa.text(OWNER_CHECK))
    op.create_index('uq_documents_owner_type', 'documents', ['owner_type', 'owner_id', 'type_key'], unique=True,
                    sqlite_where=sa.text('owner_type IS NOT NULL'), postgresql_where=sa.text('owner_type IS NOT NULL'))


def downgrade():
    op.execute("DELETE FROM documents WHERE owner_type IS NOT NULL")
    op.drop_index('uq_documents_owner_type', table_name='documents')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_documents_owner'), type_='check')
        batch_op.drop_constraint(op.f('fk_documents_organisation_id_organisations'), type_='foreignkey')
        batch_op.alter_column('stage_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('cycle_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('organisation_id')
        batch_op.drop_column('owner_id')
        batch_op.drop_column('owner_type')
