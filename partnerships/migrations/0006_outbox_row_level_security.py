"""Row-Level Security on the outbox: every country's mail, readable only programme-wide.

The outbox has no tenant column: mail is addressed to people, not countries. A country's
request may write mail (a submission notifies reviewers) but never read the outbox; the
delivery task and commands (programme scope, portal.tenancy.rls) read and update it. The one
exception is the row a transaction is writing itself, which ``INSERT … RETURNING`` (Django's
``create``/``bulk_create``) must see: a database-only column records the writing transaction
(``xmin`` is not set yet when a new row's policies are checked).
"""

from django.db import migrations

PROGRAMME = "coalesce(current_setting('portal.tenant_scope', true), '') = 'all'"
OWN_WRITE = "written_by_xact = pg_current_xact_id()"

FORWARD = f"""
ALTER TABLE partnerships_outboxemail
    ADD COLUMN written_by_xact xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE partnerships_outboxemail ENABLE ROW LEVEL SECURITY;
CREATE POLICY outbox_read ON partnerships_outboxemail FOR SELECT
    USING ({PROGRAMME} OR {OWN_WRITE});
CREATE POLICY outbox_insert ON partnerships_outboxemail FOR INSERT WITH CHECK (true);
CREATE POLICY outbox_update ON partnerships_outboxemail FOR UPDATE
    USING ({PROGRAMME}) WITH CHECK ({PROGRAMME});
CREATE POLICY outbox_delete ON partnerships_outboxemail FOR DELETE USING ({PROGRAMME});
"""
BACKWARD = """
DROP POLICY IF EXISTS outbox_read ON partnerships_outboxemail;
DROP POLICY IF EXISTS outbox_insert ON partnerships_outboxemail;
DROP POLICY IF EXISTS outbox_update ON partnerships_outboxemail;
DROP POLICY IF EXISTS outbox_delete ON partnerships_outboxemail;
ALTER TABLE partnerships_outboxemail DISABLE ROW LEVEL SECURITY;
ALTER TABLE partnerships_outboxemail DROP COLUMN IF EXISTS written_by_xact;
"""


class Migration(migrations.Migration):
    dependencies = [("partnerships", "0005_information_reply")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
