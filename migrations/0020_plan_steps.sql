-- The executor's steps for every write command, not only a plain sale (src/db/apply.ts has the
-- shape, PlanData). A command loads what it needs without locks, decides in TypeScript, and the plan
-- says what the load saw where the outcome depends on it: a row's version (its xmin), a hold still
-- pending with the reservations it had, a lot holding the points a share takes. When the database
-- no longer matches, the plan raises LL300 (stale) and undoes itself; the command loads again and
-- plans again. Nothing here decides an amount.
--
-- ll_apply_plan becomes a list of steps in the one lock order; each step is a function of its own,
-- so a later migration replaces one step, not the whole executor:
--   1. the member (LL201, LL202);
--   2. the rows the command acts on (`locks`: a purchase, an entry to reverse), FOR UPDATE, in the
--      order given; LL404 when missing, LL300 when not at the version loaded;
--   3. both of the member's wallets, in account-id order;
--   4. holds resolved or placed (LL301: resolved meanwhile; LL100: not enough available);
--   5. ledger entries (ledger_post_entry: wallets in account-id order, guarded debits, LL100);
--   6. lots, in plan order;
--   7. purchases, then the plan's other rows (`rows`: inserts and updates, in plan order);
--   8. facts (balances after, the masked phone), receipts, events, the idempotency record.
-- Allowed in `locks` and `rows`: the tables a command owns. The ledger's own tables (accounts,
-- entries, postings, lots, holds, idempotency keys, receipts, events) only through their steps.
CREATE FUNCTION ll_plan_table(p_table text, p_for text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_table = ANY (ARRAY['purchases', 'purchase_returns', 'coupon_campaigns', 'coupons', 'coupon_member_uses', 'coupon_redemptions',
                          'members', 'member_tiers', 'tier_changes', 'referral_rewards', 'birthday_rewards'])
     OR (p_for = 'lock' AND p_table = ANY (ARRAY['journal_entries', 'holds'])) THEN
    RETURN p_table;
  END IF;
  RAISE EXCEPTION 'a plan may not % table %', p_for, p_table;
END
$$;
--> statement-breakpoint
-- `t.<col> = k.<col>` for each key of p_keys, joined by AND (k is the key as a record of the table).
CREATE FUNCTION ll_plan_match(p_keys jsonb, p_left text, p_right text, p_op text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  v text;
BEGIN
  SELECT string_agg(format('%s.%I %s %s.%I', p_left, k, p_op, p_right, k), ' AND ') INTO v FROM jsonb_object_keys(coalesce(p_keys, '{}'::jsonb)) AS k;
  RETURN coalesce(v, 'true');
END
$$;
--> statement-breakpoint
-- Locks the rows a command acts on, in the order given, and checks each is what the load saw.
-- A lock: { table, key: {column: value}, version?: xmin as text, missing: {code, message} }.
CREATE FUNCTION ll_plan_locks(p_program uuid, p_locks jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  l jsonb;
  v_table text;
  v_version text;
BEGIN
  FOR l IN SELECT value FROM jsonb_array_elements(coalesce(p_locks, '[]'::jsonb)) LOOP
    v_table := ll_plan_table(l->>'table', 'lock');
    EXECUTE format('SELECT t.xmin::text FROM jsonb_populate_record(NULL::%1$I, $2) k JOIN %1$I t ON t.program_id = $1 AND %2$s FOR UPDATE OF t',
                   v_table, ll_plan_match(l->'key', 't', 'k', '='))
       INTO v_version USING p_program, l->'key';
    IF v_version IS NULL THEN
      RAISE EXCEPTION '%', coalesce(l->'missing'->>'message', v_table || '_not_found') USING ERRCODE = coalesce(l->'missing'->>'code', 'LL404');
    END IF;
    IF l ? 'version' AND v_version IS DISTINCT FROM l->>'version' THEN
      RAISE EXCEPTION 'stale:%', v_table USING ERRCODE = 'LL300';
    END IF;
  END LOOP;
END
$$;
--> statement-breakpoint
-- Holds, in plan order. Resolve: { op: 'resolve', holdId, status, postedAmount?, postedEntryId?,
-- reserved?: [{lotId, points}] (what the load saw the hold reserve on each lot) }: the hold ends
-- once (LL301 when it was resolved meanwhile), its pending amount leaves the wallet and its lots
-- get their reserved points back. Place: { op: 'place', holdId, accountId, asset, amount,
-- expiresAt, referenceType, referenceId, lots: [{lotId, points}] }: available drops (LL100 when it
-- cannot), and a points hold reserves exactly the shares the plan chose (LL300 when a lot no
-- longer has them free).
CREATE FUNCTION ll_plan_holds(p_program uuid, p_holds jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  h jsonb;
  v_account uuid;
  v_amount bigint;
  v_status text;
  v_count int;
BEGIN
  FOR h IN SELECT value FROM jsonb_array_elements(coalesce(p_holds, '[]'::jsonb)) LOOP
    IF h->>'op' = 'resolve' THEN
      UPDATE holds SET status = h->>'status', resolved_at = now(), posted_amount = (h->>'postedAmount')::bigint, posted_entry_id = (h->>'postedEntryId')::uuid
       WHERE program_id = p_program AND id = (h->>'holdId')::uuid AND status = 'pending'
      RETURNING account_id, amount INTO v_account, v_amount;
      IF NOT FOUND THEN
        SELECT status INTO v_status FROM holds WHERE program_id = p_program AND id = (h->>'holdId')::uuid;
        IF v_status IS NULL THEN
          RAISE EXCEPTION 'hold_not_found' USING ERRCODE = 'LL404';
        END IF;
        RAISE EXCEPTION 'hold_resolved:%', v_status USING ERRCODE = 'LL301';
      END IF;
      IF (h->>'postedAmount')::bigint NOT BETWEEN 0 AND v_amount THEN
        RAISE EXCEPTION 'a hold of % cannot post %', v_amount, h->>'postedAmount';
      END IF;
      IF h ? 'reserved'
         AND (SELECT coalesce(jsonb_agg(jsonb_build_array(r.lot_id, r.points - r.cut) ORDER BY r.lot_id), '[]'::jsonb)
                FROM lot_holds r WHERE r.program_id = p_program AND r.hold_id = (h->>'holdId')::uuid AND r.points > r.cut)
             IS DISTINCT FROM
             (SELECT coalesce(jsonb_agg(jsonb_build_array(s.lot_id, s.points) ORDER BY s.lot_id), '[]'::jsonb)
                FROM jsonb_to_recordset(h->'reserved') AS s(lot_id uuid, points bigint)) THEN
        RAISE EXCEPTION 'stale:lot_holds' USING ERRCODE = 'LL300';
      END IF;
      UPDATE ledger_accounts SET debits_pending = debits_pending - v_amount WHERE program_id = p_program AND id = v_account;
      WITH r AS (SELECT lot_id, points - cut AS points FROM lot_holds WHERE program_id = p_program AND hold_id = (h->>'holdId')::uuid AND points > cut)
      UPDATE points_lots l SET held = l.held - r.points FROM r WHERE l.program_id = p_program AND l.id = r.lot_id;
    ELSIF h->>'op' = 'place' THEN
      UPDATE ledger_accounts SET debits_pending = debits_pending + (h->>'amount')::bigint
       WHERE program_id = p_program AND id = (h->>'accountId')::uuid
         AND credits_posted - debits_posted - debits_pending - (h->>'amount')::bigint >= coalesce(floor, 0);
      IF NOT FOUND THEN
        RAISE EXCEPTION 'insufficient_funds:%', h->>'asset' USING ERRCODE = 'LL100';
      END IF;
      INSERT INTO holds (program_id, id, account_id, amount, expires_at, reference_type, reference_id)
      VALUES (p_program, (h->>'holdId')::uuid, (h->>'accountId')::uuid, (h->>'amount')::bigint, (h->>'expiresAt')::timestamptz, h->>'referenceType', h->>'referenceId');
      IF jsonb_array_length(coalesce(h->'lots', '[]'::jsonb)) > 0 THEN
        WITH s AS (SELECT * FROM jsonb_to_recordset(h->'lots') AS s(lot_id uuid, points bigint)),
        reserved AS (
          UPDATE points_lots l SET held = l.held + s.points FROM s
           WHERE l.program_id = p_program AND l.id = s.lot_id AND l.remaining - l.held >= s.points
          RETURNING l.id)
        SELECT count(*) INTO v_count FROM reserved;
        IF v_count <> jsonb_array_length(h->'lots') THEN
          RAISE EXCEPTION 'stale:points_lots' USING ERRCODE = 'LL300';
        END IF;
        INSERT INTO lot_holds (program_id, hold_id, lot_id, points)
        SELECT p_program, (h->>'holdId')::uuid, s.lot_id, s.points FROM jsonb_to_recordset(h->'lots') AS s(lot_id uuid, points bigint);
      END IF;
    ELSE
      RAISE EXCEPTION 'unknown hold step %', h->>'op';
    END IF;
  END LOOP;
END
$$;
--> statement-breakpoint
-- Gives points back to the lots `p_original` consumed (latest-expiring first), never more than it
-- took from each, and no more than the wallet holds beyond its other lots; what the original took
-- from lots since expired, or did not take from lots, opens a new lot that expires at
-- p_expires_at (the program's grace period). The same as restore() in src/modules/ledger/lots.ts.
CREATE FUNCTION ll_lot_restore(p_program uuid, p_entry uuid, p_member uuid, p_points bigint, p_original uuid,
                               p_effective_at timestamptz, p_expires_at timestamptz, p_lot uuid, p_account uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_left bigint;
  v_late bigint := 0;
  v_give bigint;
  c record;
BEGIN
  SELECT least(p_points, a.credits_posted - a.debits_posted
               - coalesce((SELECT sum(remaining) FROM points_lots WHERE program_id = p_program AND member_id = p_member), 0))
    INTO v_left FROM ledger_accounts a WHERE a.program_id = p_program AND a.id = p_account;
  IF coalesce(v_left, 0) <= 0 THEN
    RETURN;
  END IF;
  FOR c IN
    SELECT m.lot_id, -m.points - coalesce((SELECT sum(r.points) FROM lot_movements r
                                           WHERE r.program_id = m.program_id AND r.restores_entry_id = m.entry_id AND r.lot_id = m.lot_id), 0) AS taken,
           l.expired_entry_id IS NOT NULL OR l.expires_at <= p_effective_at AS expired
      FROM lot_movements m JOIN points_lots l ON l.program_id = m.program_id AND l.id = m.lot_id
     WHERE m.program_id = p_program AND m.entry_id = p_original AND m.kind = 'take' AND l.member_id = p_member
     ORDER BY l.expires_at DESC NULLS FIRST, l.id DESC
  LOOP
    EXIT WHEN v_left <= 0;
    v_give := least(c.taken, v_left);
    CONTINUE WHEN v_give <= 0;
    v_left := v_left - v_give;
    IF c.expired THEN
      v_late := v_late + v_give;
      CONTINUE;
    END IF;
    UPDATE points_lots SET remaining = remaining + v_give WHERE program_id = p_program AND id = c.lot_id;
    INSERT INTO lot_movements (program_id, entry_id, lot_id, kind, points, restores_entry_id) VALUES (p_program, p_entry, c.lot_id, 'give', v_give, p_original);
  END LOOP;
  IF v_late + v_left > 0 THEN
    INSERT INTO points_lots (program_id, id, member_id, earned_at, expires_at, points, remaining, source_entry_id)
    VALUES (p_program, p_lot, p_member, p_effective_at, p_expires_at, v_late + v_left, v_late + v_left, p_entry);
    INSERT INTO lot_movements (program_id, entry_id, lot_id, kind, points, restores_entry_id) VALUES (p_program, p_entry, p_lot, 'give', v_late + v_left, p_original);
  END IF;
END
$$;
--> statement-breakpoint
-- One lot step (LotStep in src/db/apply.ts). open and consume as in migration 0018; shares: take
-- exactly these points (`held` of them from the lots' reserved parts; LL300 when a lot no longer
-- has them); cuts: shrink pending holds' reservations (an overdraft took their points); restore:
-- ll_lot_restore; expired: mark the lots an expiry emptied as expired by its entry.
CREATE FUNCTION ll_plan_lot(p_program uuid, s jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_count int;
BEGIN
  CASE s->>'kind'
  WHEN 'open' THEN
    PERFORM ll_lot_open(p_program, (s->>'lotId')::uuid, (s->>'memberId')::uuid, (s->>'entryId')::uuid, (s->>'points')::bigint,
                        (s->>'earnedAt')::timestamptz, (s->>'expiresAt')::timestamptz, (s->>'accountId')::uuid);
  WHEN 'consume' THEN
    PERFORM ll_lot_consume(p_program, (s->>'entryId')::uuid, (s->>'memberId')::uuid, (s->>'points')::bigint, (s->>'preferEntry')::uuid);
  WHEN 'shares' THEN
    WITH x AS (SELECT * FROM jsonb_to_recordset(s->'shares') AS x(lot_id uuid, points bigint, held bigint)),
    taken AS (
      UPDATE points_lots l SET remaining = l.remaining - x.points, held = l.held - coalesce(x.held, 0)
        FROM x WHERE l.program_id = p_program AND l.id = x.lot_id AND l.remaining >= x.points AND l.held >= coalesce(x.held, 0)
      RETURNING l.id, x.points),
    moved AS (
      INSERT INTO lot_movements (program_id, entry_id, lot_id, kind, points)
      SELECT p_program, (s->>'entryId')::uuid, id, 'take', -points FROM taken
      ON CONFLICT (program_id, entry_id, lot_id, kind) DO UPDATE SET points = lot_movements.points + excluded.points
      RETURNING 1)
    SELECT count(*) INTO v_count FROM moved;
    IF v_count <> jsonb_array_length(s->'shares') THEN
      RAISE EXCEPTION 'stale:points_lots' USING ERRCODE = 'LL300';
    END IF;
  WHEN 'cuts' THEN
    UPDATE lot_holds r SET cut = r.cut + c.points
      FROM jsonb_to_recordset(s->'cuts') AS c(hold_id uuid, lot_id uuid, points bigint)
     WHERE r.program_id = p_program AND r.hold_id = c.hold_id AND r.lot_id = c.lot_id;
  WHEN 'restore' THEN
    PERFORM ll_lot_restore(p_program, (s->>'entryId')::uuid, (s->>'memberId')::uuid, (s->>'points')::bigint, (s->>'original')::uuid,
                           (s->>'effectiveAt')::timestamptz, (s->>'expiresAt')::timestamptz, (s->>'lotId')::uuid, (s->>'accountId')::uuid);
  WHEN 'expired' THEN
    UPDATE points_lots SET expired_entry_id = (s->>'entryId')::uuid
     WHERE program_id = p_program AND remaining = 0 AND expired_entry_id IS NULL
       AND id IN (SELECT value::uuid FROM jsonb_array_elements_text(s->'lotIds'));
  ELSE
    RAISE EXCEPTION 'unknown lot step %', s->>'kind';
  END CASE;
END
$$;
--> statement-breakpoint
-- The plan's other rows, in order. Insert: { op: 'insert', table, rows: [...], onConflict?:
-- { columns: [...], add: [...] } } (on a conflict on `columns`, the `add` columns are added to the
-- row there). Update: { op: 'update', table, key: {...}, set?: {...}, add?: {...}, expect?: {...},
-- missing?: {code, message} }: exactly the row of `key`, with the values `expect` names (LL300, or
-- `missing`, when no row matches); `add` adds to the row's value, so that a CHECK on the column
-- (a coupon's uses, a campaign's budget) refuses a limit crossed by concurrent commands.
CREATE FUNCTION ll_plan_rows(p_program uuid, p_rows jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  r jsonb;
  v_table text;
  v_sets text;
  v_count int;
BEGIN
  FOR r IN SELECT value FROM jsonb_array_elements(coalesce(p_rows, '[]'::jsonb)) LOOP
    v_table := ll_plan_table(r->>'table', r->>'op');
    IF r->>'op' = 'insert' THEN
      IF r ? 'onConflict' THEN
        SELECT string_agg(format('%I = t.%I + excluded.%I', c, c, c), ', ') INTO v_sets FROM jsonb_array_elements_text(r->'onConflict'->'add') AS c;
        EXECUTE format('INSERT INTO %1$I AS t SELECT * FROM jsonb_populate_recordset(NULL::%1$I, $1) ON CONFLICT (%2$s) DO UPDATE SET %3$s',
                       v_table, (SELECT string_agg(format('%I', c), ', ') FROM jsonb_array_elements_text(r->'onConflict'->'columns') AS c), v_sets)
          USING r->'rows';
      ELSE
        EXECUTE format('INSERT INTO %1$I SELECT * FROM jsonb_populate_recordset(NULL::%1$I, $1)', v_table) USING r->'rows';
      END IF;
    ELSIF r->>'op' = 'update' THEN
      SELECT string_agg(x, ', ') INTO v_sets FROM (
        SELECT format('%I = s.%I', c, c) AS x FROM jsonb_object_keys(coalesce(r->'set', '{}'::jsonb)) AS c
        UNION ALL
        SELECT format('%I = t.%I + a.%I', c, c, c) FROM jsonb_object_keys(coalesce(r->'add', '{}'::jsonb)) AS c) sets;
      EXECUTE format('UPDATE %1$I t SET %2$s FROM jsonb_populate_record(NULL::%1$I, $2) k, jsonb_populate_record(NULL::%1$I, $3) s, '
                     'jsonb_populate_record(NULL::%1$I, $4) a, jsonb_populate_record(NULL::%1$I, $5) e WHERE t.program_id = $1 AND %3$s AND %4$s',
                     v_table, v_sets, ll_plan_match(r->'key', 't', 'k', '='), ll_plan_match(r->'expect', 't', 'e', 'IS NOT DISTINCT FROM'))
        USING p_program, r->'key', coalesce(r->'set', '{}'::jsonb), coalesce(r->'add', '{}'::jsonb), coalesce(r->'expect', '{}'::jsonb);
      GET DIAGNOSTICS v_count = ROW_COUNT;
      IF v_count <> 1 THEN
        RAISE EXCEPTION '%', coalesce(r->'missing'->>'message', 'stale:' || v_table) USING ERRCODE = coalesce(r->'missing'->>'code', 'LL300');
      END IF;
    ELSE
      RAISE EXCEPTION 'unknown row step %', r->>'op';
    END IF;
  END LOOP;
END
$$;
--> statement-breakpoint
-- ll_apply_plan of migration 0018 with the steps above in their place in the lock order.
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

  IF p ? 'locks' THEN
    PERFORM ll_plan_locks(v_program, p->'locks');
  END IF;

  -- Both of the member's wallets, in account-id order, before anything is written (migration 0018).
  IF v_wallets IS NOT NULL THEN
    PERFORM 1 FROM ledger_accounts a WHERE a.program_id = v_program AND a.id = least(v_points, v_stored) FOR NO KEY UPDATE;
    PERFORM 1 FROM ledger_accounts a WHERE a.program_id = v_program AND a.id = greatest(v_points, v_stored) FOR NO KEY UPDATE;
  END IF;

  IF p ? 'holds' THEN
    PERFORM ll_plan_holds(v_program, p->'holds');
  END IF;

  -- Each entry's wallet balances after are facts named entry.<index>.<seq>.
  FOR v_step, v_index IN SELECT value, ordinality - 1 FROM jsonb_array_elements(coalesce(p->'entries', '[]'::jsonb)) WITH ORDINALITY LOOP
    FOR v_posted IN SELECT * FROM ledger_post_entry(v_program, v_step->'entry', v_step->'accounts', v_step->'postings', coalesce((v_step->>'allowOverdraft')::boolean, false)) LOOP
      v_facts := v_facts || jsonb_build_object(format('entry.%s.%s', v_index, v_posted.seq), v_posted.balance_after::text);
    END LOOP;
  END LOOP;

  FOR v_step IN SELECT value FROM jsonb_array_elements(coalesce(p->'lots', '[]'::jsonb)) LOOP
    PERFORM ll_plan_lot(v_program, v_step);
  END LOOP;

  IF p ? 'purchases' THEN
    INSERT INTO purchases SELECT * FROM jsonb_populate_recordset(NULL::purchases, p->'purchases');
  END IF;

  IF p ? 'rows' THEN
    PERFORM ll_plan_rows(v_program, p->'rows');
  END IF;

  IF v_wallets IS NOT NULL THEN
    -- Each wallet by its whole primary key (migration 0018).
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
    IF v_step ? 'whenCrossedBelow'
       AND NOT (v_sb - v_sp < (v_step->'whenCrossedBelow'->>'threshold')::bigint
                AND v_sb - v_sp + (v_step->'whenCrossedBelow'->>'spent')::bigint >= (v_step->'whenCrossedBelow'->>'threshold')::bigint) THEN
      CONTINUE;
    END IF;
    INSERT INTO events (program_id, id, type, category, member_id, payload, status, available_at, expires_at, endpoint_id)
    SELECT e.program_id, e.id, e.type, e.category, e.member_id, ll_fill(e.payload, v_step->'fills', v_facts), 'pending', e.available_at, e.expires_at, e.endpoint_id
      FROM jsonb_populate_record(NULL::events, v_step->'row') e
     WHERE e.category = 'marketing' OR e.endpoint_id IS NOT NULL OR ll_event_wanted(v_program, e.type);
    IF FOUND THEN
      v_events := v_events || jsonb_build_array(jsonb_build_object('id', v_step->'row'->'id', 'type', v_step->'row'->'type'));
    END IF;
  END LOOP;

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
