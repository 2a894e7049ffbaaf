"""API: personal tokens expire (API_TOKEN_DAYS after issuing, 90 by default). A token issued before this revision
gets the same lifetime counted from its creation, but at least GRACE_DAYS from the upgrade: a token older than its
lifetime expiring at the upgrade itself would stop every integration that uses it at deployment, without warning;
its owners get a month to issue new ones (the token page shows «Действует до»).

Revision ID: apitoken0001
Revises: coord0002
Create Date: 2026-12-07 10:45:00.000000

"""
from datetime import datetime, timedelta, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'apitoken0001'
down_revision = 'coord0002'
branch_labels = None
depends_on = None

DEFAULT_DAYS = 90  # config.py: API_TOKEN_DAYS
GRACE_DAYS = 30


def _lifetime() -> timedelta:
    # The running application's setting when there is one (flask db upgrade), else the default.
    try:
        from flask import current_app  # imported here: a migration may run without the application

        days = int(current_app.config.get("API_TOKEN_DAYS", DEFAULT_DAYS))
    except RuntimeError:
        days = DEFAULT_DAYS
    return timedelta(days=max(1, days))


def upgrade():
    with op.batch_alter_table('api_tokens') as batch:
        batch.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    tokens = sa.table('api_tokens', sa.column('id', sa.Integer()), sa.column('created_at', sa.DateTime(timezone=True)),
                      sa.column('expires_at', sa.DateTime(timezone=True)))
    lifetime = _lifetime()
    earliest = datetime.now(timezone.utc) + timedelta(days=GRACE_DAYS)
    # Python, not SQL date arithmetic: the two backends spell «created_at + 90 days» differently.
    for token_id, created_at in bind.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        if created_at.tzinfo is None:  # SQLite gives the stored UTC time without its zone
            created_at = created_at.replace(tzinfo=timezone.utc)
        bind.execute(tokens.update().where(tokens.c.id == token_id).values(
            expires_at=max(created_at + lifetime, earliest)))
    with op.batch_alter_table('api_tokens') as batch:
        batch.alter_column('expires_at', existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('expires_at')
