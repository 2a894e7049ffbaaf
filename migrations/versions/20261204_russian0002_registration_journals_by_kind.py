"""Documents: registration journals by kind of document (приказы «12-од», письма «01-15/123», …), the type → journal
mapping per organisation, counters per journal and year.

Existing counters and registered versions go into one «general» journal per organisation, so the numbers already
given keep their uniqueness; new registrations use the default journals (created on first use, see
app/documents/journals.py).

Revision ID: russian0002
Revises: russian0001
Create Date: 2026-12-04 06:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'russian0002'
down_revision = 'russian0001'
branch_labels = None
depends_on = None

OLD_VERSION_UQ = 'uq_document_versions_registration_org_id_registration_year_registration_seq'
NEW_VERSION_UQ = 'uq_document_versions_registration_journal_id_registration_year_registration_seq'


def upgrade():
    op.create_table(
        'document_journals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=30), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('prefix', sa.String(length=20), server_default='', nullable=False),
        sa.Column('suffix', sa.String(length=20), server_default='', nullable=False),
        sa.Column('file_index', sa.String(length=30), server_default='', nullable=False),
        sa.Column('position', sa.SmallInteger(), server_default='0', nullable=False),
        sa.CheckConstraint("code <> ''", name=op.f('ck_document_journals_code')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_document_journals_organisation_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_journals')),
        sa.UniqueConstraint('organisation_id', 'code', name=op.f('uq_document_journals_organisation_id_code')),
    )
    op.create_index(op.f('ix_document_journals_organisation_id'), 'document_journals', ['organisation_id'])
    op.create_table(
        'document_journal_types',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('type_key', sa.String(length=60), nullable=False),
        sa.Column('journal_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['journal_id'], ['document_journals.id'], ondelete='CASCADE',
                                name=op.f('fk_document_journal_types_journal_id_document_journals')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_document_journal_types_organisation_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_journal_types')),
        sa.UniqueConstraint('organisation_id', 'type_key',
                            name=op.f('uq_document_journal_types_organisation_id_type_key')),
    )
    op.create_index(op.f('ix_document_journal_types_journal_id'), 'document_journal_types', ['journal_id'])
    with op.batch_alter_table('registration_journals') as batch:
        batch.add_column(sa.Column('journal_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('document_versions') as batch:
        batch.add_column(sa.Column('registration_journal_id', sa.Integer(), nullable=True))

    # Numbers given so far: one «general» journal per organisation that has any.
    bind = op.get_bind()
    orgs = {row[0] for row in bind.execute(sa.text("SELECT organisation_id FROM registration_journals"))}
    orgs |= {row[0] for row in bind.execute(sa.text(
        "SELECT registration_org_id FROM document_versions WHERE registration_org_id IS NOT NULL"))}
    for org_id in sorted(orgs):
        bind.execute(sa.text(
            "INSERT INTO document_journals (organisation_id, code, title, prefix, suffix, file_index, position) "
            "VALUES (:org, 'general', 'Общий журнал (до разделения по видам документов)', '', '', '', 99)"),
            {"org": org_id})
        journal_id = bind.execute(sa.text("SELECT id FROM document_journals WHERE organisation_id = :org "
                                          "AND code = 'general'"), {"org": org_id}).scalar_one()
        bind.execute(sa.text("UPDATE registration_journals SET journal_id = :j WHERE organisation_id = :org"),
                     {"j": journal_id, "org": org_id})
        bind.execute(sa.text("UPDATE document_versions SET registration_journal_id = :j "
                             "WHERE registration_org_id = :org"), {"j": journal_id, "org": org_id})

    with op.batch_alter_table('registration_journals') as batch:
        batch.drop_constraint(op.f('uq_registration_journals_organisation_id_year'), type_='unique')
        batch.alter_column('journal_id', existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(op.f('fk_registration_journals_journal_id_document_journals'), 'document_journals',
                                 ['journal_id'], ['id'])
        batch.create_unique_constraint(op.f('uq_registration_journals_journal_id_year'), ['journal_id', 'year'])
    with op.batch_alter_table('document_versions') as batch:
        batch.drop_constraint(op.f(OLD_VERSION_UQ), type_='unique')
        batch.create_foreign_key(op.f('fk_document_versions_registration_journal_id_document_journals'),
                                 'document_journals', ['registration_journal_id'], ['id'])
        batch.create_unique_constraint(op.f(NEW_VERSION_UQ),
                                       ['registration_journal_id', 'registration_year', 'registration_seq'])


def downgrade():
    # Going back to one sequence per organisation fails (by design) if two journals already gave the same number.
    with op.batch_alter_table('document_versions') as batch:
        batch.drop_constraint(op.f(NEW_VERSION_UQ), type_='unique')
        batch.drop_constraint(op.f('fk_document_versions_registration_journal_id_document_journals'),
                              type_='foreignkey')
        batch.create_unique_constraint(op.f(OLD_VERSION_UQ),
                                       ['registration_org_id', 'registration_year', 'registration_seq'])
        batch.drop_column('registration_journal_id')
    with op.batch_alter_table('registration_journals') as batch:
        batch.drop_constraint(op.f('uq_registration_journals_journal_id_year'), type_='unique')
        batch.drop_constraint(op.f('fk_registration_journals_journal_id_document_journals'), type_='foreignkey')
        batch.drop_column('journal_id')
        batch.create_unique_constraint(op.f('uq_registration_journals_organisation_id_year'),
                                       ['organisation_id', 'year'])
    op.drop_index(op.f('ix_document_journal_types_journal_id'), table_name='document_journal_types')
    op.drop_table('document_journal_types')
    op.drop_index(op.f('ix_document_journals_organisation_id'), table_name='document_journals')
    op.drop_table('document_journals')
