"""Audit events: an index on (object_type, object_id).

An object's history (a submission's, the audit page filtered by object type) and the evidence package's audit
extract select the events of given objects; without the index each of them scans the whole hash-chained log, which
only ever grows (a region collects millions of events).

Revision ID: auditidx0001
Revises: docrules0001
Create Date: 2026-12-04 20:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'auditidx0001'
down_revision = 'docrules0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_audit_events_object', 'audit_events', ['object_type', 'object_id'])


def downgrade():
    op.drop_index('ix_audit_events_object', table_name='audit_events')
