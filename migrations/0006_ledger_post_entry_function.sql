-- Posts one planned entry in a single round trip (the purchase benchmark was bound by round
-- trips). The TypeScript planner still decides every amount; this only applies the plan:
-- missing accounts are created and member wallets updated in account-id order (the ledger's one
-- lock order), each debit guarded by its floor; then the entry and its postings are inserted,
-- with each wallet's balance after. A refused debit raises SQLSTATE LL100 naming the asset.
CREATE FUNCTION ledger_post_entry(
  p_program uuid,
  p_entry jsonb,
  p_accounts jsonb,
  p_postings jsonb,
  p_allow_overdraft boolean
) RETURNS TABLE (seq smallint, balance_after bigint)
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  v_balance bigint;
  v_after jsonb := '{}'::jsonb;
BEGIN
  IF jsonb_array_length(p_accounts) > 0 THEN
    INSERT INTO ledger_accounts (program_id, id, code, type, asset, member_id, store_id, floor, tracks_balance)
    SELECT p_program, (a->>'id')::uuid, a->>'code', a->>'type', a->>'asset', (a->>'memberId')::uuid, a->>'storeId',
           (a->>'floor')::bigint, (a->>'tracksBalance')::boolean
      FROM jsonb_array_elements(p_accounts) AS a
     ORDER BY (a->>'id')::uuid
    ON CONFLICT DO NOTHING;
  END IF;

  FOR r IN
    SELECT (x->>'seq')::smallint AS seq, (x->>'accountId')::uuid AS account_id, x->>'asset' AS asset, (x->>'amount')::bigint AS amount
      FROM jsonb_array_elements(p_postings) AS x
     WHERE (x->>'wallet')::boolean
     ORDER BY (x->>'accountId')::uuid
  LOOP
    IF r.amount < 0 THEN
      UPDATE ledger_accounts a
         SET debits_posted = a.debits_posted - r.amount,
             overdrawn_by_policy = CASE
               WHEN a.credits_posted - a.debits_posted + r.amount - a.debits_pending < a.floor THEN a.overdrawn_by_policy OR p_allow_overdraft
               ELSE false END
       WHERE a.program_id = p_program AND a.id = r.account_id
         AND (p_allow_overdraft OR a.floor IS NULL OR a.credits_posted - a.debits_posted - a.debits_pending + r.amount >= a.floor)
      RETURNING a.credits_posted - a.debits_posted INTO v_balance;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'insufficient_funds:%', r.asset USING ERRCODE = 'LL100';
      END IF;
    ELSE
      UPDATE ledger_accounts a
         SET credits_posted = a.credits_posted + r.amount,
             overdrawn_by_policy = a.overdrawn_by_policy AND a.credits_posted + r.amount - a.debits_posted - a.debits_pending < a.floor
       WHERE a.program_id = p_program AND a.id = r.account_id
      RETURNING a.credits_posted - a.debits_posted INTO v_balance;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'ledger account % is missing', r.account_id;
      END IF;
    END IF;
    v_after := v_after || jsonb_build_object(r.seq::text, v_balance);
    seq := r.seq;
    balance_after := v_balance;
    RETURN NEXT;
  END LOOP;

  INSERT INTO journal_entries (program_id, id, kind, effective_at, member_id, store_id, reason, reference_type, reference_id, reverses_entry_id, created_by, metadata)
  VALUES (p_program, (p_entry->>'id')::uuid, p_entry->>'kind', (p_entry->>'effectiveAt')::timestamptz, (p_entry->>'memberId')::uuid,
          p_entry->>'storeId', p_entry->>'reason', p_entry->>'referenceType', p_entry->>'referenceId',
          (p_entry->>'reversesEntryId')::uuid, p_entry->>'createdBy', coalesce(p_entry->'metadata', '{}'::jsonb));

  INSERT INTO postings (program_id, entry_id, seq, account_id, asset, amount, balance_after)
  SELECT p_program, (p_entry->>'id')::uuid, (x->>'seq')::smallint, (x->>'accountId')::uuid, x->>'asset', (x->>'amount')::bigint,
         (v_after->>(x->>'seq'))::bigint
    FROM jsonb_array_elements(p_postings) AS x;
  RETURN;
END
$$;
