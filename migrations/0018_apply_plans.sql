-- The write executor (src/db/apply.ts): one statement applies a group of plans decided in
-- TypeScript, each in its own subtransaction, in its own implicit transaction: no BEGIN or COMMIT
-- round trip, one commit (one WAL flush) for the whole group, and one plan's refusal (an
-- insufficient balance, a duplicate receipt number) rolls back that plan alone. The plan is data;
-- nothing here decides an amount. The steps run in the one lock order of every write: the member,
-- then ledger accounts in account-id order (ledger_post_entry), then lots, then the rows the plan
-- inserts, then its receipt, events and idempotency record.

-- ledger_post_entry as in migration 0006, and the entry's created_at may be given: a plan that
-- answers with the entry (a points adjustment) knows it before the database does.
CREATE OR REPLACE FUNCTION ledger_post_entry(
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

  INSERT INTO journal_entries (program_id, id, kind, effective_at, member_id, store_id, reason, reference_type, reference_id, reverses_entry_id, created_by, metadata, created_at)
  VALUES (p_program, (p_entry->>'id')::uuid, p_entry->>'kind', (p_entry->>'effectiveAt')::timestamptz, (p_entry->>'memberId')::uuid,
          p_entry->>'storeId', p_entry->>'reason', p_entry->>'referenceType', p_entry->>'referenceId',
          (p_entry->>'reversesEntryId')::uuid, p_entry->>'createdBy', coalesce(p_entry->'metadata', '{}'::jsonb),
          coalesce((p_entry->>'createdAt')::timestamptz, now()));

  INSERT INTO postings (program_id, entry_id, seq, account_id, asset, amount, balance_after)
  SELECT p_program, (p_entry->>'id')::uuid, (x->>'seq')::smallint, (x->>'accountId')::uuid, x->>'asset', (x->>'amount')::bigint,
         (v_after->>(x->>'seq'))::bigint
    FROM jsonb_array_elements(p_postings) AS x;
  RETURN;
END
$$;
--> statement-breakpoint
-- Lots, shared with src/modules/ledger/lots.ts (one SQL for both paths). PL/pgSQL rather than SQL
-- functions, here and below: a PL/pgSQL function keeps its statements' plans for the session, an
-- SQL function called from PL/pgSQL is planned again at every call (measured: about 1 ms a lot).
-- Opens a lot for credited points, no larger than what the wallet holds beyond its other lots
-- (a credit first pays off a negative balance).
CREATE FUNCTION ll_lot_open(p_program uuid, p_lot uuid, p_member uuid, p_entry uuid, p_points bigint,
                            p_earned_at timestamptz, p_expires_at timestamptz, p_account uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN

  WITH room AS (
    SELECT least(p_points, a.credits_posted - a.debits_posted
                 - coalesce((SELECT sum(remaining) FROM points_lots WHERE program_id = p_program AND member_id = p_member), 0)) AS points
      FROM ledger_accounts a WHERE a.program_id = p_program AND a.id = p_account),
  lot AS (
    INSERT INTO points_lots (program_id, id, member_id, earned_at, expires_at, points, remaining, source_entry_id)
    SELECT p_program, p_lot, p_member, p_earned_at, p_expires_at, p_points, points, p_entry FROM room WHERE points > 0
    RETURNING id, remaining)
  INSERT INTO lot_movements (program_id, entry_id, lot_id, kind, points) SELECT p_program, p_entry, id, 'give', remaining FROM lot;
END
$$;
--> statement-breakpoint
-- Takes up to p_points of free points from the member's lots: lots of p_prefer first, then
-- soonest-expiring, oldest first.
CREATE FUNCTION ll_lot_consume(p_program uuid, p_entry uuid, p_member uuid, p_points bigint, p_prefer uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN

  WITH lots AS (
    SELECT id, remaining - held AS free, expires_at, source_entry_id IS NOT DISTINCT FROM p_prefer AS preferred
      FROM points_lots WHERE program_id = p_program AND member_id = p_member AND remaining > held
       FOR UPDATE),
  ranked AS (
    SELECT id, free,
           coalesce(sum(free) OVER (ORDER BY preferred DESC, expires_at ASC NULLS LAST, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
      FROM lots),
  taken AS (
    UPDATE points_lots l SET remaining = l.remaining - least(r.free, p_points - r.before)
      FROM ranked r
     WHERE l.program_id = p_program AND l.id = r.id AND r.before < p_points
    RETURNING l.id, least(r.free, p_points - r.before) AS points)
  INSERT INTO lot_movements (program_id, entry_id, lot_id, kind, points)
  SELECT p_program, p_entry, id, 'take', -points FROM taken
  ON CONFLICT (program_id, entry_id, lot_id, kind) DO UPDATE SET points = lot_movements.points + excluded.points;
END
$$;
--> statement-breakpoint
-- Minor units as the API's decimal string (formatMinorUnits in src/shared/money.ts).
CREATE FUNCTION ll_format_minor(p_value bigint, p_exponent int) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_exponent = 0 THEN
    RETURN p_value::text;
  END IF;
  RETURN round(p_value::numeric / power(10::numeric, p_exponent), p_exponent)::text;
END
$$;
--> statement-breakpoint
-- A phone as a receipt shows it (maskPhone in src/modules/receipts/format.ts): the first two and
-- last three digits. test/unit/apply-sql.test.ts checks both agree.
CREATE FUNCTION ll_mask_phone(p_phone text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  plus text := CASE WHEN left(p_phone, 1) = '+' THEN '+' ELSE '' END;
  d text := substr(p_phone, length(plus) + 1);
BEGIN
  IF p_phone IS NULL OR p_phone = '' THEN
    RETURN NULL;
  END IF;
  IF length(d) <= 6 THEN
    RETURN plus || repeat('*', length(d));
  END IF;
  RETURN plus || left(d, 2) || repeat('*', length(d) - 5) || right(d, 3);
END
$$;
--> statement-breakpoint
-- Writes the facts known only once the plan's ledger entries are applied (balances after, the
-- member's masked phone) into a document the plan built: each fill names a path and a fact.
CREATE FUNCTION ll_fill(p_doc jsonb, p_fills jsonb, p_facts jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  f jsonb;
BEGIN
  IF p_fills IS NULL THEN
    RETURN p_doc;
  END IF;
  FOR f IN SELECT value FROM jsonb_array_elements(p_fills) LOOP
    IF NOT p_facts ? (f->>'fact') THEN
      RAISE EXCEPTION 'plan fills unknown fact %', f->>'fact';
    END IF;
    -- With an exponent the fact is minor units, written as the API's decimal string.
    p_doc := jsonb_set(p_doc, ARRAY(SELECT jsonb_array_elements_text(f->'path')),
                       CASE WHEN f ? 'exponent' THEN to_jsonb(ll_format_minor((p_facts->>(f->>'fact'))::bigint, (f->>'exponent')::int))
                            ELSE p_facts->(f->>'fact') END, true);
  END LOOP;
  RETURN p_doc;
END
$$;
--> statement-breakpoint
-- Applies one plan (the shape is PlanData in src/db/apply.ts). Refusals raise: LL100 insufficient
-- funds (ledger_post_entry), LL201 member not found, LL202 member erased; a unique violation
-- names its constraint (a duplicate receipt number, an idempotency key taken meanwhile).
CREATE FUNCTION ll_apply_plan(p jsonb) RETURNS jsonb
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
  v_points uuid := (v_wallets->>'points')::uuid;
  v_stored uuid := (v_wallets->>'storedValue')::uuid;
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
--> statement-breakpoint
-- A group of plans in one statement. Unguarded (the common case, every plan applies) they run one
-- after the other and any failure fails the statement; guarded, each runs in a subtransaction, so
-- one plan's failure (its SQLSTATE, message and constraint in its outcome) undoes that plan alone.
-- The executor sends a group unguarded and, only when that fails on a plan, again guarded:
-- subtransactions cost every session reading the rows they wrote (pg_subtrans lookups).
CREATE FUNCTION ll_apply(p_plans jsonb, p_guarded boolean) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_plan jsonb;
  v_out jsonb[] := '{}';
  v_state text;
  v_message text;
  v_constraint text;
BEGIN
  FOR v_plan IN SELECT value FROM jsonb_array_elements(p_plans) LOOP
    IF NOT p_guarded THEN
      v_out := v_out || jsonb_build_object('ok', ll_apply_plan(v_plan));
      CONTINUE;
    END IF;
    BEGIN
      v_out := v_out || jsonb_build_object('ok', ll_apply_plan(v_plan));
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT, v_constraint = CONSTRAINT_NAME;
      v_out := v_out || jsonb_build_object('error', jsonb_build_object('code', v_state, 'message', v_message, 'constraint', nullif(v_constraint, '')));
    END;
  END LOOP;
  RETURN to_jsonb(v_out);
END
$$;
