-- ll_apply_plan locks its member's wallets first, and reads each wallet by its whole primary key
-- (see the comments inside). The rest of the function is as in 0018_apply_plans.sql.
CREATE OR REPLACE FUNCTION ll_apply_plan(p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_program uuid := (p->>'program')::uuid;
  v_phone text;
  v_erased timestamptz;
  v_referred uuid;
  v_has_member boolean := false;
  v_step jsonb;
  v_wallets jsonb := p->'wallets';
  v_pb bigint := 0;
  v_pp bigint := 0;
  v_sb bigint := 0;
  v_sp bigint := 0;
  v_exp int;
  v_points uuid := (p->'wallets'->>'points')::uuid;
  v_stored uuid := (p->'wallets'->>'storedValue')::uuid;
  v_facts jsonb := '{}'::jsonb;
  v_events jsonb := '[]'::jsonb;
  v_key jsonb := p->'idempotency';
  v_u jsonb := p->'unusual';
  v_n numeric;
  v_s numeric;
  v_total numeric;
  v_over_limit boolean;
  v_trusted boolean;
  v_over_average boolean;
  v_index bigint;
  v_posted record;
BEGIN
  IF p ? 'member' THEN
    SELECT m.phone, m.erased_at, m.referred_by INTO v_phone, v_erased, v_referred
      FROM members m WHERE m.program_id = v_program AND m.id = (p->'member'->>'id')::uuid;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'member_not_found' USING ERRCODE = 'LL201';
    END IF;
    IF v_erased IS NOT NULL AND (p->'member'->>'refuseErased')::boolean THEN
      RAISE EXCEPTION 'member_erased' USING ERRCODE = 'LL202';
    END IF;
    v_has_member := true;
  END IF;

  -- The lock order, once: a plan takes both of its member's wallets, in account-id order, before it
  -- writes anything, as the pipelined commands do (a return locks both in that order). Without it a
  -- group holding one member's later wallet (a top-up writes only stored value) and then wanting the
  -- earlier one (the member's sale next in the group) deadlocks with a return of that member.
  IF v_wallets IS NOT NULL THEN
    PERFORM 1 FROM ledger_accounts a WHERE a.program_id = v_program AND a.id = least(v_points, v_stored) FOR NO KEY UPDATE;
    PERFORM 1 FROM ledger_accounts a WHERE a.program_id = v_program AND a.id = greatest(v_points, v_stored) FOR NO KEY UPDATE;
  END IF;

  -- Each entry's wallet balances after are facts named entry.<index>.<seq>.
  FOR v_step, v_index IN SELECT value, ordinality - 1 FROM jsonb_array_elements(coalesce(p->'entries', '[]'::jsonb)) WITH ORDINALITY LOOP
    FOR v_posted IN SELECT * FROM ledger_post_entry(v_program, v_step->'entry', v_step->'accounts', v_step->'postings', coalesce((v_step->>'allowOverdraft')::boolean, false)) LOOP
      v_facts := v_facts || jsonb_build_object(format('entry.%s.%s', v_index, v_posted.seq), v_posted.balance_after::text);
    END LOOP;
  END LOOP;

  FOR v_step IN SELECT value FROM jsonb_array_elements(coalesce(p->'lots', '[]'::jsonb)) LOOP
    IF v_step->>'kind' = 'open' THEN
      PERFORM ll_lot_open(v_program, (v_step->>'lotId')::uuid, (v_step->>'memberId')::uuid, (v_step->>'entryId')::uuid, (v_step->>'points')::bigint,
                          (v_step->>'earnedAt')::timestamptz, (v_step->>'expiresAt')::timestamptz, (v_step->>'accountId')::uuid);
    ELSIF v_step->>'kind' = 'consume' THEN
      PERFORM ll_lot_consume(v_program, (v_step->>'entryId')::uuid, (v_step->>'memberId')::uuid, (v_step->>'points')::bigint, (v_step->>'preferEntry')::uuid);
    ELSE
      RAISE EXCEPTION 'unknown lot step %', v_step->>'kind';
    END IF;
  END LOOP;

  IF p ? 'purchases' THEN
    INSERT INTO purchases SELECT * FROM jsonb_populate_recordset(NULL::purchases, p->'purchases');
  END IF;

  IF v_wallets IS NOT NULL THEN
    -- Each wallet by its whole primary key. As `id IN (<jsonb>::uuid, ...)` the session's cached
    -- generic plan, costed on a new program's few accounts, scanned all of the program's accounts
    -- and parsed both ids from the jsonb for each one (the benchmark's sales slowed as members grew).
    SELECT a.credits_posted - a.debits_posted, a.debits_pending INTO v_pb, v_pp
      FROM ledger_accounts a WHERE a.program_id = v_program AND a.id = v_points;
    SELECT a.credits_posted - a.debits_posted, a.debits_pending INTO v_sb, v_sp
      FROM ledger_accounts a WHERE a.program_id = v_program AND a.id = v_stored;
    v_pb := coalesce(v_pb, 0);
    v_pp := coalesce(v_pp, 0);
    v_sb := coalesce(v_sb, 0);
    v_sp := coalesce(v_sp, 0);
    v_exp := (v_wallets->>'exponent')::int;
    v_facts := v_facts || jsonb_build_object(
      'points.available', v_pb - v_pp,
      'storedValue.available', ll_format_minor(v_sb - v_sp, v_exp),
      'balances', jsonb_build_object(
        'memberId', v_wallets->>'memberId',
        'points', jsonb_build_object('balance', v_pb, 'available', v_pb - v_pp, 'pending', v_pp),
        'storedValue', jsonb_build_object('currency', v_wallets->>'currency', 'balance', ll_format_minor(v_sb, v_exp),
                                          'available', ll_format_minor(v_sb - v_sp, v_exp), 'pending', ll_format_minor(v_sp, v_exp))));
  END IF;
  IF v_has_member THEN
    v_facts := v_facts || jsonb_build_object('member.phone', ll_mask_phone(v_phone));
  END IF;

  FOR v_step IN SELECT value FROM jsonb_array_elements(coalesce(p->'receipts', '[]'::jsonb)) LOOP
    INSERT INTO receipts (program_id, id, number, kind, source_id, member_id, purchase_id, entry_id, original_receipt_id, public_token, issued_at, document)
    SELECT r.program_id, r.id, r.number, r.kind, r.source_id, r.member_id, r.purchase_id, r.entry_id, r.original_receipt_id, r.public_token, r.issued_at,
           ll_fill(r.document, v_step->'fills', v_facts)
      FROM jsonb_populate_record(NULL::receipts, v_step->'row') r;
  END LOOP;

  FOR v_step IN SELECT value FROM jsonb_array_elements(coalesce(p->'events', '[]'::jsonb)) LOOP
    -- storedValue.low: only when the plan's spend took the available balance across the threshold.
    IF v_step ? 'whenCrossedBelow'
       AND NOT (v_sb - v_sp < (v_step->'whenCrossedBelow'->>'threshold')::bigint
                AND v_sb - v_sp + (v_step->'whenCrossedBelow'->>'spent')::bigint >= (v_step->'whenCrossedBelow'->>'threshold')::bigint) THEN
      CONTINUE;
    END IF;
    -- The outbox keeps a transactional event only when an endpoint may receive it (ll_event_wanted,
    -- migration 0019; resolved when this runs), as every other event insert (events/emit.ts).
    INSERT INTO events (program_id, id, type, category, member_id, payload, status, available_at, expires_at, endpoint_id)
    SELECT e.program_id, e.id, e.type, e.category, e.member_id, ll_fill(e.payload, v_step->'fills', v_facts), 'pending', e.available_at, e.expires_at, e.endpoint_id
      FROM jsonb_populate_record(NULL::events, v_step->'row') e
     WHERE e.category = 'marketing' OR e.endpoint_id IS NOT NULL OR ll_event_wanted(v_program, e.type);
    IF FOUND THEN
      v_events := v_events || jsonb_build_array(jsonb_build_object('id', v_step->'row'->'id', 'type', v_step->'row'->'type'));
    END IF;
  END LOOP;

  -- purchase.unusual: the total against an absolute limit and against the member's average over
  -- their latest completed purchases (the same check as receiptStatementSql in receipts/statement.ts).
  IF v_u IS NOT NULL THEN
    SELECT count(*)::numeric, coalesce(sum(total), 0)::numeric INTO v_n, v_s
      FROM (SELECT pu.total FROM purchases pu
             WHERE pu.program_id = v_program AND pu.member_id = (v_u->>'memberId')::uuid AND pu.status = 'completed' AND pu.id <> (v_u->>'purchaseId')::uuid
             ORDER BY pu.id DESC LIMIT (v_u->>'lookback')::int) recent;
    v_total := (v_u->>'total')::numeric;
    v_over_limit := v_u->>'above' IS NOT NULL AND v_total > (v_u->>'above')::numeric;
    v_trusted := v_n >= (v_u->>'minPurchases')::int AND v_n > 0;
    v_over_average := v_trusted AND v_u->>'timesAverage' IS NOT NULL AND v_total * v_n > (v_u->>'timesAverage')::numeric * v_s;
    IF (v_over_limit OR v_over_average) AND ll_event_wanted(v_program, 'purchase.unusual') THEN
      INSERT INTO events (program_id, id, type, category, member_id, payload, status, available_at)
      VALUES (v_program, (v_u->>'eventId')::uuid, 'purchase.unusual', 'transactional', (v_u->>'memberId')::uuid,
              (v_u->'payload') || jsonb_build_object(
                'total', ll_format_minor((v_u->>'total')::bigint, (v_u->>'exponent')::int),
                'reasons', to_jsonb(array_remove(ARRAY[CASE WHEN v_over_limit THEN 'above_limit' END, CASE WHEN v_over_average THEN 'above_average' END], NULL)),
                'memberAverage', CASE WHEN v_trusted THEN ll_format_minor(round(v_s / v_n)::bigint, (v_u->>'exponent')::int) END),
              'pending', (v_u->>'at')::timestamptz);
      v_events := v_events || jsonb_build_array(jsonb_build_object('id', v_u->'eventId', 'type', 'purchase.unusual'));
    END IF;
  END IF;

  IF v_key IS NOT NULL THEN
    INSERT INTO idempotency_keys (program_id, key, request_hash, response_status, response_body)
    VALUES (v_program, v_key->>'key', v_key->>'hash', (v_key->>'status')::smallint, ll_fill(v_key->'body', v_key->'fills', v_facts));
  END IF;

  RETURN jsonb_build_object(
    'wallets', jsonb_build_object('pointsBalance', v_pb::text, 'pointsPending', v_pp::text, 'storedValueBalance', v_sb::text, 'storedValuePending', v_sp::text),
    'member', CASE WHEN v_has_member THEN jsonb_build_object('phone', v_phone, 'referredBy', v_referred) END,
    'events', v_events,
    'facts', v_facts);
END
$$;
