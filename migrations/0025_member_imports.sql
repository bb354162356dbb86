-- Member imports (POST /v1/members/imports, src/modules/imports): the import's record and the
-- result of each row, written by the same plans that write the rows' members, so the counts, the
-- row results and the members always agree, and an interrupted import resumes after its last chunk.
CREATE TABLE "member_imports" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"format" text NOT NULL,
	"status" text NOT NULL,
	"runner" uuid NOT NULL,
	"rows_read" integer DEFAULT 0 NOT NULL,
	"created" integer DEFAULT 0 NOT NULL,
	"updated" integer DEFAULT 0 NOT NULL,
	"unchanged" integer DEFAULT 0 NOT NULL,
	"refused" integer DEFAULT 0 NOT NULL,
	"points_opened" bigint DEFAULT 0 NOT NULL,
	"stored_value_opened" bigint DEFAULT 0 NOT NULL,
	"request_hash" text,
	"problem" jsonb,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "member_imports_pkey" PRIMARY KEY("program_id","id"),
	CONSTRAINT "member_imports_program_key_key" UNIQUE("program_id","idempotency_key"),
	CONSTRAINT "member_imports_status_check" CHECK ("member_imports"."status" in ('running', 'completed', 'failed', 'interrupted')),
	CONSTRAINT "member_imports_format_check" CHECK ("member_imports"."format" in ('csv', 'ndjson'))
);
--> statement-breakpoint
CREATE TABLE "member_import_rows" (
	"program_id" uuid NOT NULL,
	"import_id" uuid NOT NULL,
	"row_number" integer NOT NULL,
	"line" integer NOT NULL,
	"status" text NOT NULL,
	"member_id" uuid,
	"code" text,
	"field" text,
	"message" text,
	CONSTRAINT "member_import_rows_pkey" PRIMARY KEY("program_id","import_id","row_number"),
	CONSTRAINT "member_import_rows_status_check" CHECK ("member_import_rows"."status" in ('created', 'updated', 'unchanged', 'refused'))
);
--> statement-breakpoint
ALTER TABLE "member_imports" ADD CONSTRAINT "member_imports_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "member_import_rows" ADD CONSTRAINT "member_import_rows_import_fkey" FOREIGN KEY ("program_id","import_id") REFERENCES "public"."member_imports"("program_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "member_import_rows_member_idx" ON "member_import_rows" USING btree ("program_id","import_id","member_id") WHERE member_id is not null;--> statement-breakpoint
-- The tables a plan may write: those of ll_plan_table in migration 0024 (0022's and the rewards'), and for the import's plans
-- the consent events of the members they create or update, the row results (insert only) and the
-- import's counts (update only).
CREATE OR REPLACE FUNCTION ll_plan_table(p_table text, p_for text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_table = ANY (ARRAY['purchases', 'purchase_returns', 'coupon_campaigns', 'coupons', 'coupon_member_uses', 'coupon_redemptions',
                          'members', 'member_tiers', 'tier_changes', 'referral_rewards', 'birthday_rewards',
                          'rewards', 'reward_member_counts', 'reward_redemptions'])
     OR (p_for = 'lock' AND p_table = ANY (ARRAY['journal_entries', 'holds', 'ledger_accounts']))
     OR (p_for = 'update' AND p_table = ANY (ARRAY['points_lots', 'member_imports']))
     OR (p_for = 'insert' AND p_table = ANY (ARRAY['events', 'member_consent_events', 'member_import_rows'])) THEN
    RETURN p_table;
  END IF;
  RAISE EXCEPTION 'a plan may not % table %', p_for, p_table;
END
$$;
--> statement-breakpoint
-- Opening balances of members new to the ledger (src/modules/ledger/opening-step.ts), set-based:
-- a few statements for hundreds of members, where ledger_post_entry takes several a member. The
-- plan's `openings`: { entries: [{ entry, accounts, postings }] as for ledger_post_entry, lots:
-- [{ lotId, memberId, entryId, points, earnedAt, expiresAt, accountId }] }. What makes a plain
-- insert right here is checked first: every entry is an opening_balance whose wallet postings are
-- credits to wallets the entry creates (and a wallet that exists already refuses the plan on the
-- accounts' primary key: a member's balances are opened once), so each wallet's running totals
-- and balance after are the credit itself; every points credit opens exactly one lot of its points
-- (the wallet holds nothing else), and nothing else opens a lot. The postings trigger checks that
-- each entry balances, as for every entry. Nothing here decides an amount.
CREATE FUNCTION ll_plan_openings(p_program uuid, p jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_bad text;
BEGIN
  SELECT s->'entry'->>'id' INTO v_bad
    FROM jsonb_array_elements(p->'entries') s
   WHERE s->'entry'->>'kind' IS DISTINCT FROM 'opening_balance'
      OR EXISTS (SELECT 1 FROM jsonb_to_recordset(s->'postings') x("accountId" uuid, amount bigint, wallet boolean)
                  WHERE x.wallet AND (x.amount <= 0 OR NOT EXISTS (
                        SELECT 1 FROM jsonb_to_recordset(s->'accounts') a(id uuid, "tracksBalance" boolean)
                         WHERE a.id = x."accountId" AND a."tracksBalance")))
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'opening entry % does more than credit wallets it creates', v_bad;
  END IF;

  SELECT coalesce(l."entryId", w.entry_id)::text INTO v_bad
    FROM jsonb_to_recordset(coalesce(p->'lots', '[]'::jsonb)) l("entryId" uuid, "accountId" uuid, "memberId" uuid, points bigint)
    FULL JOIN (SELECT (s->'entry'->>'id')::uuid AS entry_id, x."accountId" AS account_id, a."memberId" AS member_id, x.amount
                 FROM jsonb_array_elements(p->'entries') s,
                      jsonb_to_recordset(s->'postings') x("accountId" uuid, asset text, amount bigint, wallet boolean),
                      jsonb_to_recordset(s->'accounts') a(id uuid, "memberId" uuid)
                WHERE x.wallet AND x.asset = 'POINTS' AND a.id = x."accountId") w
      ON w.entry_id = l."entryId" AND w.account_id = l."accountId"
   WHERE l.points IS DISTINCT FROM w.amount OR l."memberId" IS DISTINCT FROM w.member_id
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'the lots of opening entry % are not its points credit', v_bad;
  END IF;

  -- System accounts keep no running totals and may exist already.
  INSERT INTO ledger_accounts (program_id, id, code, type, asset, member_id, store_id, floor, tracks_balance)
  SELECT DISTINCT ON (a.id) p_program, a.id, a.code, a.type, a.asset, a."memberId", a."storeId", a.floor, false
    FROM jsonb_array_elements(p->'entries') s,
         jsonb_to_recordset(s->'accounts') a(id uuid, code text, type text, asset text, "memberId" uuid, "storeId" text, floor bigint, "tracksBalance" boolean)
   WHERE NOT a."tracksBalance"
   ORDER BY a.id
  ON CONFLICT DO NOTHING;

  -- The wallets, created with their credit posted. No ON CONFLICT: one that exists refuses the plan.
  INSERT INTO ledger_accounts (program_id, id, code, type, asset, member_id, store_id, floor, tracks_balance, credits_posted)
  SELECT p_program, a.id, a.code, a.type, a.asset, a."memberId", a."storeId", a.floor, true, x.amount
    FROM jsonb_array_elements(p->'entries') s,
         jsonb_to_recordset(s->'accounts') a(id uuid, code text, type text, asset text, "memberId" uuid, "storeId" text, floor bigint, "tracksBalance" boolean),
         jsonb_to_recordset(s->'postings') x("accountId" uuid, amount bigint, wallet boolean)
   WHERE a."tracksBalance" AND x.wallet AND x."accountId" = a.id
   ORDER BY a.id;

  INSERT INTO journal_entries (program_id, id, kind, effective_at, member_id, store_id, reason, reference_type, reference_id, reverses_entry_id, created_by, metadata, created_at)
  SELECT p_program, (e->>'id')::uuid, e->>'kind', (e->>'effectiveAt')::timestamptz, (e->>'memberId')::uuid, e->>'storeId', e->>'reason',
         e->>'referenceType', e->>'referenceId', NULL, e->>'createdBy', coalesce(e->'metadata', '{}'::jsonb), coalesce((e->>'createdAt')::timestamptz, now())
    FROM (SELECT s->'entry' AS e FROM jsonb_array_elements(p->'entries') s) entries;

  -- One statement, so the postings trigger checks every entry once.
  INSERT INTO postings (program_id, entry_id, seq, account_id, asset, amount, balance_after)
  SELECT p_program, (s->'entry'->>'id')::uuid, x.seq, x."accountId", x.asset, x.amount, CASE WHEN x.wallet THEN x.amount END
    FROM jsonb_array_elements(p->'entries') s,
         jsonb_to_recordset(s->'postings') x(seq smallint, "accountId" uuid, asset text, amount bigint, wallet boolean);

  WITH lots AS (
    INSERT INTO points_lots (program_id, id, member_id, earned_at, expires_at, points, remaining, source_entry_id)
    SELECT p_program, l."lotId", l."memberId", l."earnedAt", l."expiresAt", l.points, l.points, l."entryId"
      FROM jsonb_to_recordset(coalesce(p->'lots', '[]'::jsonb)) l("lotId" uuid, "memberId" uuid, "entryId" uuid, points bigint, "earnedAt" timestamptz, "expiresAt" timestamptz)
    RETURNING id, source_entry_id, points)
  INSERT INTO lot_movements (program_id, entry_id, lot_id, kind, points)
  SELECT p_program, source_entry_id, id, 'give', points FROM lots;
END
$$;
--> statement-breakpoint
-- ll_apply_plan of migration 0020 with the openings in their place: after the entries, before the
-- lots and rows of the plan.
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

  -- Opening balances of members new to the ledger, set-based (ll_plan_openings above).
  IF p ? 'openings' THEN
    PERFORM ll_plan_openings(v_program, p->'openings');
  END IF;

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
