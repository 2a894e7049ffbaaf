"""Documents: a second signer's signature (the protocol's secretary signs beside the chair): the signature's
meaning may be «секретарь».

Revision ID: cosign0001
Revises: assess0002
Create Date: 2026-12-04 13:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'cosign0001'
down_revision = 'assess0002'
branch_labels = None
depends_on = None

MEANINGS_BEFORE = "'утверждаю','подписано','согласовано','ознакомлен'"
MEANINGS_AFTER = "'утверждаю','подписано','согласовано','ознакомлен','секретарь'"


def upgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_signatures_meaning'), type_='check')
        batch_op.create_check_constraint('meaning', f"meaning IN ({MEANINGS_AFTER})")


def downgrade():
    # Fails (by design) while a secretary's signature exists.
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_signatures_meaning'), type_='check')
        batch_op.create_check_constraint('meaning', f"meaning IN ({MEANINGS_BEFORE})")
