"""Documents: attachments, documents, versions, approval steps, signatures, registration journal.

Revision ID: d0c500000a01
Revises: a81701fba09d
Create Date: 2026-11-22 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd0c500000a01'
down_revision = 'a81701fba09d'
branch_labels = None
depends_on = None

# A letter whose data request was deleted keeps data_request_id NULL: letters stay out of this index.
NO_SUBJECT = "addressee_id IS NULL AND data_request_id IS NULL AND type_key <> 'data_request_letter'"


def upgrade():
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_type', sa.String(length=40), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('stored_path', sa.String(length=500), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size > 0', name=op.f('ck_attachments_size')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_attachments_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('stored_path', name=op.f('uq_attachments_stored_path'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_attachments_owner', ['owner_type', 'owner_id'], unique=False)
    op.create_table('registration_journals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.CheckConstraint('last_number >= 0', name=op.f('ck_registration_journals_last')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_registration_journals_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_journals')),
    sa.UniqueConstraint('organisation_id', 'year', name=op.f('uq_registration_journals_organisation_id_year'))
    )
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('type_key', sa.String(length=60), nullable=False),
    sa.Column('addressee_id', sa.Integer(), nullable=True),
    sa.Column('data_request_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('return_comment', sa.Text(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("state IN ('draft','on_approval','awaiting_signature','signed','registered','published')", name=op.f('ck_documents_state')),
    sa.ForeignKeyConstraint(['addressee_id'], ['organisations.id'], name=op.f('fk_documents_addressee_id_organisations')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_documents_created_by_id_users')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_documents_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['data_request_id'], ['data_requests.id'], name=op.f('fk_documents_data_request_id_data_requests'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stage_id'], ['stages.id'], name=op.f('fk_documents_stage_id_stages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_data_request_id'), ['data_request_id'], unique=False)
        batch_op.create_index('ix_documents_stage_type', ['stage_id', 'type_key'], unique=False)
        batch_op.create_index('uq_documents_stage_type', ['stage_id', 'type_key'], unique=True,
                              sqlite_where=sa.text(NO_SUBJECT), postgresql_where=sa.text(NO_SUBJECT))
        batch_op.create_index('uq_documents_stage_type_addressee', ['stage_id', 'type_key', 'addressee_id'], unique=True,
                              sqlite_where=sa.text('addressee_id IS NOT NULL'),
                              postgresql_where=sa.text('addressee_id IS NOT NULL'))
        batch_op.create_index('uq_documents_stage_type_data_request', ['stage_id', 'type_key', 'data_request_id'],
                              unique=True, sqlite_where=sa.text('data_request_id IS NOT NULL'),
                              postgresql_where=sa.text('data_request_id IS NOT NULL'))
    op.create_table('document_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('progress', sa.SmallInteger(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('rq_job_id', sa.String(length=64), nullable=True),
    sa.Column('params', sa.JSON(), nullable=True),
    sa.Column('template_version', sa.String(length=40), nullable=True),
    sa.Column('stored_path', sa.String(length=500), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed', sa.Boolean(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('registration_org_id', sa.Integer(), nullable=True),
    sa.Column('registration_year', sa.SmallInteger(), nullable=True),
    sa.Column('registration_seq', sa.Integer(), nullable=True),
    sa.Column('registration_number', sa.String(length=40), nullable=True),
    sa.Column('registration_date', sa.Date(), nullable=True),
    sa.Column('registered_by_id', sa.Integer(), nullable=True),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('context_snapshot', sa.JSON(), nullable=True),
    sa.Column('registered_status', sa.String(length=10), nullable=True),
    sa.Column('registered_error', sa.Text(), nullable=True),
    sa.Column('registered_path', sa.String(length=500), nullable=True),
    sa.Column('registered_sha256', sa.String(length=64), nullable=True),
    sa.Column('registered_size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("registered_status IS NULL OR registered_status IN ('queued','running','done','failed')", name=op.f('ck_document_versions_registered_status')),
    sa.CheckConstraint("registered_sha256 IS NULL OR registered_status = 'done'", name=op.f('ck_document_versions_registered_sha256_if_done')),
    sa.CheckConstraint('registered_status IS NULL OR registration_number IS NOT NULL', name=op.f('ck_document_versions_registered_copy_numbered')),
    sa.CheckConstraint("(status = 'done') = (sha256 IS NOT NULL)", name=op.f('ck_document_versions_sha256_iff_done')),
    sa.CheckConstraint("status IN ('queued','running','done','failed')", name=op.f('ck_document_versions_status')),
    sa.CheckConstraint('(registration_seq IS NULL) = (registration_number IS NULL)', name=op.f('ck_document_versions_registration_complete')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_document_versions_progress')),
    sa.CheckConstraint('signed = (signed_at IS NOT NULL)', name=op.f('ck_document_versions_signed_at_iff_signed')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_document_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_versions_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registered_by_id'], ['users.id'], name=op.f('fk_document_versions_registered_by_id_users')),
    sa.ForeignKeyConstraint(['registration_org_id'], ['organisations.id'], name=op.f('fk_document_versions_registration_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_versions')),
    sa.UniqueConstraint('document_id', 'number', name=op.f('uq_document_versions_document_id_number')),
    sa.UniqueConstraint('registration_org_id', 'registration_year', 'registration_seq', name=op.f('uq_document_versions_registration_org_id_registration_year_registration_seq'))
    )
    with op.batch_alter_table('document_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_versions_document_id'), ['document_id'], unique=False)
    op.create_table('document_approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.SmallInteger(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('approver_id', sa.Integer(), nullable=True),
    sa.Column('approver_name', sa.String(length=200), nullable=True),
    sa.Column('approver_position', sa.String(length=200), nullable=True),
    sa.Column('decision', sa.String(length=10), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("decision != 'returned' OR comment IS NOT NULL", name=op.f('ck_document_approvals_comment_if_returned')),
    sa.CheckConstraint("decision IS NULL OR decision IN ('approved','returned')", name=op.f('ck_document_approvals_decision')),
    sa.CheckConstraint('(decision IS NULL) = (decided_at IS NULL)', name=op.f('ck_document_approvals_decided_at_iff_decided')),
    sa.CheckConstraint('decision IS NULL OR approver_id IS NOT NULL', name=op.f('ck_document_approvals_approver_if_decided')),
    sa.ForeignKeyConstraint(['approver_id'], ['users.id'], name=op.f('fk_document_approvals_approver_id_users')),
    sa.ForeignKeyConstraint(['version_id'], ['document_versions.id'], name=op.f('fk_document_approvals_version_id_document_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_approvals')),
    sa.UniqueConstraint('version_id', 'round', 'position', name=op.f('uq_document_approvals_version_id_round_position'))
    )
    with op.batch_alter_table('document_approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_approvals_version_id'), ['version_id'], unique=False)
    op.create_table('signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('signer_id', sa.Integer(), nullable=False),
    sa.Column('signer_name', sa.String(length=200), nullable=False),
    sa.Column('signer_position', sa.String(length=200), nullable=True),
    sa.Column('signer_role', sa.String(length=30), nullable=False),
    sa.Column('meaning', sa.String(length=20), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.CheckConstraint("meaning IN ('утверждаю','подписано','согласовано','ознакомлен')", name=op.f('ck_signatures_meaning')),
    sa.ForeignKeyConstraint(['signer_id'], ['users.id'], name=op.f('fk_signatures_signer_id_users')),
    sa.ForeignKeyConstraint(['version_id'], ['document_versions.id'], name=op.f('fk_signatures_version_id_document_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signatures')),
    sa.UniqueConstraint('version_id', 'signer_id', 'meaning', name=op.f('uq_signatures_version_id_signer_id_meaning'))
    )
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signatures_version_id'), ['version_id'], unique=False)


def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signatures_version_id'))
    op.drop_table('signatures')
    with op.batch_alter_table('document_approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_approvals_version_id'))
    op.drop_table('document_approvals')
    with op.batch_alter_table('document_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_versions_document_id'))
    op.drop_table('document_versions')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('uq_documents_stage_type_data_request')
        batch_op.drop_index('uq_documents_stage_type_addressee')
        batch_op.drop_index('uq_documents_stage_type')
        batch_op.drop_index('ix_documents_stage_type')
        batch_op.drop_index(batch_op.f('ix_documents_data_request_id'))
        batch_op.drop_index(batch_op.f('ix_documents_cycle_id'))
    op.drop_table('documents')
    op.drop_table('registration_journals')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_attachments_owner')
        batch_op.drop_index(batch_op.f('ix_attachments_organisation_id'))
    op.drop_table('attachments')
