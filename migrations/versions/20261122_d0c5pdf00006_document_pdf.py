"""Documents: PDF copies of registered documents, converted once by LibreOffice.

Revision ID: d0c5pdf00006
Revises: eff00000e005
Create Date: 2026-11-22 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd0c5pdf00006'
down_revision = 'eff00000e005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'document_pdfs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('path', sa.String(length=500), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('converted_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued','running','done','failed')", name=op.f('ck_document_pdfs_status')),
        sa.CheckConstraint("(status = 'done') = (sha256 IS NOT NULL)", name=op.f('ck_document_pdfs_sha256_iff_done')),
        sa.CheckConstraint('size IS NULL OR size > 0', name=op.f('ck_document_pdfs_size')),
        sa.ForeignKeyConstraint(['version_id'], ['document_versions.id'],
                                name=op.f('fk_document_pdfs_version_id_document_versions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_document_pdfs_requested_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_pdfs')),
        sa.UniqueConstraint('version_id', name=op.f('uq_document_pdfs_version_id')),
    )


def downgrade():
    op.drop_table('document_pdfs')
