-- The balance check of 0002 joined the transition table against all postings, which the planner
-- may answer with a sequential scan: every purchase then read the whole journal. Check each
-- entry through the primary key instead, and look accounts and entries up by key.
CREATE OR REPLACE FUNCTION ledger_check_postings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  e record;
  bad record;
BEGIN
  FOR e IN SELECT DISTINCT program_id, entry_id FROM new_postings LOOP
    IF NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.program_id = e.program_id AND j.id = e.entry_id) THEN
      RAISE EXCEPTION 'postings refer to journal entry %, which does not exist', e.entry_id USING ERRCODE = 'LL002';
    END IF;
    SELECT p.asset, sum(p.amount) AS total INTO bad
      FROM postings p
     WHERE p.program_id = e.program_id AND p.entry_id = e.entry_id
     GROUP BY p.asset
    HAVING sum(p.amount) <> 0
     LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'journal entry % does not balance in %: its postings sum to %', e.entry_id, bad.asset, bad.total
        USING ERRCODE = 'LL002';
    END IF;
  END LOOP;

  FOR bad IN SELECT n.entry_id, n.account_id, n.asset, n.amount, n.program_id FROM new_postings n LOOP
    IF bad.amount = 0 OR NOT EXISTS (
      SELECT 1 FROM ledger_accounts a WHERE a.program_id = bad.program_id AND a.id = bad.account_id AND a.asset = bad.asset
    ) THEN
      RAISE EXCEPTION 'invalid posting to account % in entry %: unknown account, asset % not held by it, or a zero amount',
        bad.account_id, bad.entry_id, bad.asset USING ERRCODE = 'LL002';
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;
