"""The vertical region → municipality → school: a mechanism names its counterpart one level up
(`mechanisms.upper_code`), an indicator may be invariant (mandatory for the cycles one level down, with its
aggregation for the roll-up) and may inherit an upper cycle's invariant indicator (`upper_indicator_id`), and a
data request may be the pass-down of one addressee's answer to its own institutions (`parent_submission_id`).

Revision ID: vertical0001
Revises: assess0001
Create Date: 2026-12-04 08:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'vertical0001'
down_revision = 'assess0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mechanisms') as batch:
        batch.add_column(sa.Column('upper_code', sa.String(length=20), nullable=True))
    with op.batch_alter_table('indicators') as batch:
        batch.add_column(sa.Column('invariant', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('aggregation', sa.String(length=20), server_default='mean_weighted',
                                   nullable=False))
        batch.add_column(sa.Column('upper_indicator_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_indicators_upper_indicator_id_indicators'), 'indicators',
                                 ['upper_indicator_id'], ['id'], ondelete='SET NULL')
        batch.create_index(batch.f('ix_indicators_upper_indicator_id'), ['upper_indicator_id'])
        batch.create_check_constraint(
            batch.f('ck_indicators_aggregation'), "aggregation IN ('sum','mean_weighted','share_meeting')")
    with op.batch_alter_table('data_requests') as batch:
        batch.add_column(sa.Column('parent_submission_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_data_requests_parent_submission_id_submissions'), 'submissions',
                                 ['parent_submission_id'], ['id'], ondelete='CASCADE')
        batch.create_index(batch.f('ix_data_requests_parent_submission_id'), ['parent_submission_id'],
                           unique=True)


def downgrade():
    with op.batch_alter_table('data_requests') as batch:
        batch.drop_index(batch.f('ix_data_requests_parent_submission_id'))
        batch.drop_constraint(batch.f('fk_data_requests_parent_submission_id_submissions'), type_='foreignkey')
        batch.drop_column('parent_submission_id')
    with op.batch_alter_table('indicators') as batch:
        batch.drop_constraint(batch.f('ck_indicators_aggregation'), type_='check')
        batch.drop_index(batch.f('ix_indicators_upper_indicator_id'))
        batch.drop_constraint(batch.f('fk_indicators_upper_indicator_id_indicators'), type_='foreignkey')
        batch.drop_column('upper_indicator_id')
        batch.drop_column('aggregation')
        batch.drop_column('invariant')
    with op.batch_alter_table('mechanisms') as batch:
        batch.drop_column('upper_code')
