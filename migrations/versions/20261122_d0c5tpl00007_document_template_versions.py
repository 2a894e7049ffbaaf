"""Documents: uploaded template versions (validated before activation); versions record their template.

Revision ID: d0c5tpl00007
Revises: d0c5pdf00006
Create Date: 2026-11-22 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd0c5tpl00007'
down_revision = 'd0c5pdf00006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'document_template_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('type_key', sa.String(length=60), nullable=False),
        sa.Column('number', sa.SmallInteger(), nullable=False),
        sa.Column('original_name', sa.String(length=255), nullable=False),
        sa.Column('stored_path', sa.String(length=500), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('valid', sa.Boolean(), nullable=False),
        sa.Column('problems', sa.JSON(), nullable=False),
        sa.Column('sample_source', sa.String(length=300), nullable=True),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('activated_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('valid OR NOT active', name=op.f('ck_document_template_versions_active_only_if_valid')),
        sa.CheckConstraint('size > 0', name=op.f('ck_document_template_versions_size')),
        sa.CheckConstraint('number > 1', name=op.f('ck_document_template_versions_number')),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                                name=op.f('fk_document_template_versions_uploaded_by_id_users')),
        sa.ForeignKeyConstraint(['activated_by_id'], ['users.id'],
                                name=op.f('fk_document_template_versions_activated_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_template_versions')),
        sa.UniqueConstraint('stored_path', name=op.f('uq_document_template_versions_stored_path')),
        sa.UniqueConstraint('type_key', 'number', name=op.f('uq_document_template_versions_type_key_number')),
    )
    op.create_index('uq_document_template_versions_active', 'document_template_versions', ['type_key'], unique=True,
                    sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))


def downgrade():
    op.drop_index('uq_document_template_versions_active', table_name='document_template_versions',
                  sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))
    op.drop_table('document_template_versions')
