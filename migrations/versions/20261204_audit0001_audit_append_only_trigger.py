"""Audit log: on PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE of audit_events.

The application only ever inserts audit rows (app/audit/chain.py); with this trigger a statement that tries to
change or remove one fails with SQLSTATE 42501 (insufficient_privilege), whoever sends it — the application,
a console session under the application's role, a faulty script. SQLite (development, tests) has no such
guard: its file is the whole database, and the hash chain plus the signed checkpoints (`flask audit checkpoint`)
are what detect a change there.

What the trigger cannot do by itself, and what the operator does about it
--------------------------------------------------------------------------
A table's owner (and a superuser) can switch the triggers off (`ALTER TABLE audit_events DISABLE TRIGGER
audit_events_append_only`, the same for `audit_events_no_truncate`) or drop them. So in production the application must not run as the owner of
the tables. The recommended split:

* an operator role (e.g. `uko_owner`) owns the schema and runs `flask db upgrade`;
* the application connects as another role (e.g. `uko_app`) with
  `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO uko_app` and then
  `REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM uko_app` (keep `UPDATE` on audit_chain_head: every
  append moves the head), plus `GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO uko_app`.

Should history ever have to be altered lawfully (a court order to remove personal data, say), the operator
role does it deliberately, in one transaction, and records why:

    BEGIN;
    ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
    -- the change itself
    ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;
    COMMIT;

after which the hash chain no longer verifies against earlier checkpoints — as it should: keep the order and
the old checkpoints with the record of the change, and start a new checkpoint directory.

Revision ID: audit0001
Revises: auth0001
Create Date: 2026-12-04 06:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'audit0001'
down_revision = 'auth0001'
branch_labels = None
depends_on = None


FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'history is changed only by the operator role, see migration audit0001';
END
$$
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    op.execute("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
               "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")
    op.execute("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
               "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
    op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
