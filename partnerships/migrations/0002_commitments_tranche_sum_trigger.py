"""The database refuses, at commit, a commitment whose tranches do not sum to its amount.

A DEFERRABLE INITIALLY DEFERRED constraint trigger, so a service may replace a schedule
(delete, then insert) inside one transaction; only the state at COMMIT (or at
``SET CONSTRAINTS ALL IMMEDIATE``) is checked. The rule, for each commitment touched:

- tranches with status ``cancelled`` do not count;
- ``withdrawn`` commitments are exempt (withdrawing cancels their open tranches);
- a ``proposed`` commitment may have no counted tranche yet;
- otherwise the counted tranches sum exactly to the amount (numeric, no rounding).
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION commitment_assert_tranche_sum(cid bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    c_amount numeric;
    c_status text;
    total numeric;
    counted integer;
BEGIN
    SELECT amount, status INTO c_amount, c_status
        FROM partnerships_coinvestmentcommitment WHERE id = cid;
    IF NOT FOUND OR c_status = 'withdrawn' THEN
        RETURN;
    END IF;
    SELECT coalesce(sum(amount), 0), count(*) INTO total, counted
        FROM partnerships_tranche WHERE commitment_id = cid AND status <> 'cancelled';
    IF counted = 0 AND c_status = 'proposed' THEN
        RETURN;
    END IF;
    IF total <> c_amount THEN
        RAISE EXCEPTION 'commitment %: tranches sum to %, the amount is %', cid, total, c_amount
            USING ERRCODE = 'check_violation', CONSTRAINT = 'commitment_tranches_sum_to_amount';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION commitment_check_tranche_sum() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'partnerships_tranche' THEN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM commitment_assert_tranche_sum(OLD.commitment_id);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.commitment_id <> OLD.commitment_id) THEN
            PERFORM commitment_assert_tranche_sum(NEW.commitment_id);
        END IF;
    ELSE
        PERFORM commitment_assert_tranche_sum(NEW.id);
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER commitment_tranches_sum_to_amount
    AFTER INSERT OR UPDATE OR DELETE ON partnerships_tranche
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION commitment_check_tranche_sum();

CREATE CONSTRAINT TRIGGER commitment_amount_matches_tranches
    AFTER INSERT OR UPDATE ON partnerships_coinvestmentcommitment
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION commitment_check_tranche_sum();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS commitment_amount_matches_tranches ON partnerships_coinvestmentcommitment;
DROP TRIGGER IF EXISTS commitment_tranches_sum_to_amount ON partnerships_tranche;
DROP FUNCTION IF EXISTS commitment_check_tranche_sum();
DROP FUNCTION IF EXISTS commitment_assert_tranche_sum(bigint);
"""


class Migration(migrations.Migration):
    dependencies = [("partnerships", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
