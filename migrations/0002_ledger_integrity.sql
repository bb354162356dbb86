-- The ledger's own guarantees, enforced by the database whatever the application does.

-- 1. Journal entries and postings are append-only: corrections are reversing entries.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'LL001', HINT = 'post a reversing entry instead';
END
$$;
--> statement-breakpoint
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
--> statement-breakpoint
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
--> statement-breakpoint
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
--> statement-breakpoint
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
--> statement-breakpoint

-- 2. Every INSERT into postings leaves each entry it touches balanced per asset, with
--    non-zero amounts on existing accounts of the same program and asset. Checked once per
--    statement (transition table), so an entry's postings are written in one INSERT.
--    No foreign key to ledger_accounts on purpose: its KEY SHARE lock would make every
--    purchase contend on the program's hot system accounts.
CREATE FUNCTION ledger_check_postings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT n.entry_id, n.account_id, n.asset, n.amount, a.asset AS account_asset, e.id AS found_entry
    INTO bad
    FROM new_postings n
    LEFT JOIN ledger_accounts a ON a.program_id = n.program_id AND a.id = n.account_id
    LEFT JOIN journal_entries e ON e.program_id = n.program_id AND e.id = n.entry_id
   WHERE a.id IS NULL OR a.asset <> n.asset OR e.id IS NULL OR n.amount = 0
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'invalid posting to account % in entry %: unknown account or entry, asset % on a % account, or a zero amount',
      bad.account_id, bad.entry_id, bad.asset, bad.account_asset USING ERRCODE = 'LL002';
  END IF;

  SELECT p.entry_id, p.asset, sum(p.amount) AS total
    INTO bad
    FROM postings p
   WHERE (p.program_id, p.entry_id) IN (SELECT DISTINCT program_id, entry_id FROM new_postings)
   GROUP BY p.program_id, p.entry_id, p.asset
  HAVING sum(p.amount) <> 0
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'journal entry % does not balance in %: its postings sum to %', bad.entry_id, bad.asset, bad.total
      USING ERRCODE = 'LL002';
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER postings_balanced AFTER INSERT ON postings
  REFERENCING NEW TABLE AS new_postings
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_postings();
--> statement-breakpoint

-- 3. An entry without postings cannot commit.
CREATE FUNCTION ledger_check_entry_has_postings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM postings WHERE program_id = NEW.program_id AND entry_id = NEW.id) THEN
    RAISE EXCEPTION 'journal entry % has no postings', NEW.id USING ERRCODE = 'LL002';
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER journal_entries_have_postings AFTER INSERT ON journal_entries
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_has_postings();
--> statement-breakpoint

-- 4. Plain invariants of the rows themselves.
ALTER TABLE postings ADD CONSTRAINT postings_amount_nonzero CHECK (amount <> 0);
--> statement-breakpoint
ALTER TABLE holds ADD CONSTRAINT holds_amount_positive CHECK (amount > 0);
--> statement-breakpoint
ALTER TABLE holds ADD CONSTRAINT holds_status_known CHECK (status IN ('pending', 'posted', 'voided', 'expired'));
--> statement-breakpoint
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_totals_nonnegative
  CHECK (debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 AND credits_pending >= 0);
--> statement-breakpoint
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_floor_kept
  CHECK (floor IS NULL OR overdrawn_by_policy OR credits_posted - debits_posted - debits_pending >= floor);
