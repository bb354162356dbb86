-- Saved segments and segment campaigns (src/modules/saved-segments, src/modules/segment-campaigns,
-- docs/segments.md). A campaign's members are materialized when it is created (one insert-select);
-- each is granted by the plan that inserts its segment_campaign_grants row, whose primary key makes
-- a second grant of the same member fail: exactly once per member, whatever runs it or how often.
CREATE TABLE "segments" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"name" text NOT NULL,
	"filter" jsonb NOT NULL,
	"status" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"archived_at" timestamp with time zone,
	CONSTRAINT "segments_pkey" PRIMARY KEY("program_id","id"),
	CONSTRAINT "segments_status_check" CHECK ("segments"."status" in ('active', 'archived'))
);
--> statement-breakpoint
CREATE TABLE "segment_campaigns" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"segment_id" uuid NOT NULL,
	"name" text NOT NULL,
	"grant_kind" text NOT NULL,
	"points" bigint,
	"coupon_campaign_id" uuid,
	"filter" jsonb NOT NULL,
	"as_of" timestamp with time zone NOT NULL,
	"total" integer NOT NULL,
	"status" text NOT NULL,
	"runner" text,
	"heartbeat_at" timestamp with time zone,
	"error" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "segment_campaigns_pkey" PRIMARY KEY("program_id","id"),
	CONSTRAINT "segment_campaigns_status_check" CHECK ("segment_campaigns"."status" in ('running', 'completed', 'failed')),
	CONSTRAINT "segment_campaigns_grant_check" CHECK (("segment_campaigns"."grant_kind" = 'points' and "segment_campaigns"."points" > 0 and "segment_campaigns"."coupon_campaign_id" is null)
	  or ("segment_campaigns"."grant_kind" = 'coupon' and "segment_campaigns"."points" is null and "segment_campaigns"."coupon_campaign_id" is not null))
);
--> statement-breakpoint
CREATE TABLE "segment_campaign_members" (
	"program_id" uuid NOT NULL,
	"campaign_id" uuid NOT NULL,
	"member_id" uuid NOT NULL,
	"claimed_by" text,
	"claimed_until" timestamp with time zone,
	CONSTRAINT "segment_campaign_members_pkey" PRIMARY KEY("program_id","campaign_id","member_id")
);
--> statement-breakpoint
CREATE TABLE "segment_campaign_grants" (
	"program_id" uuid NOT NULL,
	"campaign_id" uuid NOT NULL,
	"member_id" uuid NOT NULL,
	"outcome" text NOT NULL,
	"points" bigint DEFAULT 0 NOT NULL,
	"entry_id" uuid,
	"coupon_code" text,
	"event_id" uuid,
	"event_status" text,
	"skipped_reason" text,
	"granted_at" timestamp with time zone NOT NULL,
	CONSTRAINT "segment_campaign_grants_pkey" PRIMARY KEY("program_id","campaign_id","member_id"),
	CONSTRAINT "segment_campaign_grants_outcome_check" CHECK ("segment_campaign_grants"."outcome" in ('granted', 'skipped')),
	CONSTRAINT "segment_campaign_grants_event_status_check" CHECK ("segment_campaign_grants"."event_status" in ('pending', 'suppressed'))
);
--> statement-breakpoint
ALTER TABLE "segments" ADD CONSTRAINT "segments_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "segment_campaigns" ADD CONSTRAINT "segment_campaigns_segment_fkey" FOREIGN KEY ("program_id","segment_id") REFERENCES "public"."segments"("program_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "segment_campaign_members" ADD CONSTRAINT "segment_campaign_members_campaign_fkey" FOREIGN KEY ("program_id","campaign_id") REFERENCES "public"."segment_campaigns"("program_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "segment_campaign_grants" ADD CONSTRAINT "segment_campaign_grants_member_fkey" FOREIGN KEY ("program_id","campaign_id","member_id") REFERENCES "public"."segment_campaign_members"("program_id","campaign_id","member_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "segment_campaigns_running_idx" ON "segment_campaigns" USING btree ("program_id","heartbeat_at") WHERE status = 'running';--> statement-breakpoint
-- Otherwise ll_plan_table of migration 0025 (0024's tables and the imports'), and for the segment
-- campaigns' plans: the grant rows (insert only) and the campaign's end (update only).
CREATE OR REPLACE FUNCTION ll_plan_table(p_table text, p_for text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_table = ANY (ARRAY['purchases', 'purchase_returns', 'coupon_campaigns', 'coupons', 'coupon_member_uses', 'coupon_redemptions',
                          'members', 'member_tiers', 'tier_changes', 'referral_rewards', 'birthday_rewards',
                          'rewards', 'reward_member_counts', 'reward_redemptions'])
     OR (p_for = 'lock' AND p_table = ANY (ARRAY['journal_entries', 'holds', 'ledger_accounts']))
     OR (p_for = 'update' AND p_table = ANY (ARRAY['points_lots', 'member_imports', 'segment_campaigns']))
     OR (p_for = 'insert' AND p_table = ANY (ARRAY['events', 'member_consent_events', 'member_import_rows', 'segment_campaign_grants'])) THEN
    RETURN p_table;
  END IF;
  RAISE EXCEPTION 'a plan may not % table %', p_for, p_table;
END
$$;
--> statement-breakpoint
-- A segment campaign's points grants (src/modules/segment-campaigns/plan.ts), set-based: a few
-- statements for hundreds of members, where ledger_post_entry and ll_lot_open take several a
-- member (the campaign of 100,000 members took minutes that way). The plan's `grants`: { entries:
-- [{ entry, accounts, postings }] as for ledger_post_entry, lots: [{ lotId, memberId, entryId,
-- points, earnedAt, expiresAt, accountId }] }. What makes the set-based statements right is
-- checked first: every entry is a bonus whose only wallet posting is a points credit, no wallet is
-- credited twice in the step (so one update per wallet is each credit's balance after), and the
-- lots are exactly those credits. The wallets are locked in account-id order, as every plan locks
-- wallets; each lot opens no larger than what the wallet holds beyond its other lots, as
-- ll_lot_open does (a credit first pays off a negative balance). Nothing here decides an amount.
CREATE FUNCTION ll_plan_grants(p_program uuid, p jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_bad text;
  v_after jsonb;
BEGIN
  SELECT s->'entry'->>'id' INTO v_bad
    FROM jsonb_array_elements(p->'entries') s
   WHERE s->'entry'->>'kind' IS DISTINCT FROM 'bonus'
      OR (SELECT count(*) FROM jsonb_to_recordset(s->'postings') x(asset text, amount bigint, wallet boolean) WHERE x.wallet) <> 1
      OR EXISTS (SELECT 1 FROM jsonb_to_recordset(s->'postings') x(asset text, amount bigint, wallet boolean) WHERE x.wallet AND (x.amount <= 0 OR x.asset <> 'POINTS'))
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'grant entry % does more than credit one points wallet', v_bad;
  END IF;

  SELECT x."accountId"::text INTO v_bad
    FROM jsonb_array_elements(p->'entries') s, jsonb_to_recordset(s->'postings') x("accountId" uuid, wallet boolean)
   WHERE x.wallet GROUP BY x."accountId" HAVING count(*) > 1 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'grants credit wallet % twice', v_bad;
  END IF;

  SELECT coalesce(l."entryId", w.entry_id)::text INTO v_bad
    FROM jsonb_to_recordset(coalesce(p->'lots', '[]'::jsonb)) l("entryId" uuid, "accountId" uuid, points bigint)
    FULL JOIN (SELECT (s->'entry'->>'id')::uuid AS entry_id, x."accountId" AS account_id, x.amount
                 FROM jsonb_array_elements(p->'entries') s, jsonb_to_recordset(s->'postings') x("accountId" uuid, amount bigint, wallet boolean)
                WHERE x.wallet) w
      ON w.entry_id = l."entryId" AND w.account_id = l."accountId"
   WHERE l.points IS DISTINCT FROM w.amount
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'the lots of grant entry % are not its points credit', v_bad;
  END IF;

  -- Accounts not known to exist: system accounts and new wallets, created empty.
  INSERT INTO ledger_accounts (program_id, id, code, type, asset, member_id, store_id, floor, tracks_balance)
  SELECT DISTINCT ON (a.id) p_program, a.id, a.code, a.type, a.asset, a."memberId", a."storeId", a.floor, a."tracksBalance"
    FROM jsonb_array_elements(p->'entries') s,
         jsonb_to_recordset(s->'accounts') a(id uuid, code text, type text, asset text, "memberId" uuid, "storeId" text, floor bigint, "tracksBalance" boolean)
   ORDER BY a.id
  ON CONFLICT DO NOTHING;

  PERFORM 1 FROM ledger_accounts a
   WHERE a.program_id = p_program
     AND a.id IN (SELECT x."accountId" FROM jsonb_array_elements(p->'entries') s, jsonb_to_recordset(s->'postings') x("accountId" uuid, wallet boolean) WHERE x.wallet)
   ORDER BY a.id FOR NO KEY UPDATE;

  WITH credited AS (
    UPDATE ledger_accounts a
       SET credits_posted = a.credits_posted + c.amount,
           overdrawn_by_policy = a.overdrawn_by_policy AND a.credits_posted + c.amount - a.debits_posted - a.debits_pending < a.floor
      FROM (SELECT x."accountId" AS account_id, x.amount
              FROM jsonb_array_elements(p->'entries') s, jsonb_to_recordset(s->'postings') x("accountId" uuid, amount bigint, wallet boolean)
             WHERE x.wallet) c
     WHERE a.program_id = p_program AND a.id = c.account_id
    RETURNING a.id, a.credits_posted - a.debits_posted AS balance)
  SELECT jsonb_object_agg(id::text, balance) INTO v_after FROM credited;

  INSERT INTO journal_entries (program_id, id, kind, effective_at, member_id, store_id, reason, reference_type, reference_id, reverses_entry_id, created_by, metadata, created_at)
  SELECT p_program, (e->>'id')::uuid, e->>'kind', (e->>'effectiveAt')::timestamptz, (e->>'memberId')::uuid, e->>'storeId', e->>'reason',
         e->>'referenceType', e->>'referenceId', NULL, e->>'createdBy', coalesce(e->'metadata', '{}'::jsonb), coalesce((e->>'createdAt')::timestamptz, now())
    FROM (SELECT s->'entry' AS e FROM jsonb_array_elements(p->'entries') s) entries;

  -- One statement, so the postings trigger checks every entry once.
  INSERT INTO postings (program_id, entry_id, seq, account_id, asset, amount, balance_after)
  SELECT p_program, (s->'entry'->>'id')::uuid, x.seq, x."accountId", x.asset, x.amount, CASE WHEN x.wallet THEN (v_after->>(x."accountId"::text))::bigint END
    FROM jsonb_array_elements(p->'entries') s,
         jsonb_to_recordset(s->'postings') x(seq smallint, "accountId" uuid, asset text, amount bigint, wallet boolean);

  WITH room AS (
    SELECT l.*, least(l.points, (v_after->>(l."accountId"::text))::bigint
                 - coalesce((SELECT sum(pl.remaining) FROM points_lots pl WHERE pl.program_id = p_program AND pl.member_id = l."memberId"), 0)) AS room
      FROM jsonb_to_recordset(coalesce(p->'lots', '[]'::jsonb))
           l("lotId" uuid, "memberId" uuid, "entryId" uuid, points bigint, "earnedAt" timestamptz, "expiresAt" timestamptz, "accountId" uuid)),
  lots AS (
    INSERT INTO points_lots (program_id, id, member_id, earned_at, expires_at, points, remaining, source_entry_id)
    SELECT p_program, r."lotId", r."memberId", r."earnedAt", r."expiresAt", r.points, r.room, r."entryId" FROM room r WHERE r.room > 0
    RETURNING id, source_entry_id, remaining)
  INSERT INTO lot_movements (program_id, entry_id, lot_id, kind, points) SELECT p_program, source_entry_id, id, 'give', remaining FROM lots;
END
$$;
--> statement-breakpoint
-- Migration 0026's ll_apply_plan with one step added (marked "0027 step"): the campaign grants,
-- after the openings, before the lots of the other entries.
CREATE OR REPLACE FUNCTION ll_apply_plan(p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_program uuid := (p->>'program')::uuid;
  v_phone text;
  v_erased timestamptz;
  v_referred uuid;
  v_has_member boolean := false;
  v_step jsonb;
  v_row jsonb;
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
  v_posted record;
  v_done boolean;
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

  IF coalesce(jsonb_array_length(p->'locks'), 0) > 0 THEN
    PERFORM ll_plan_locks(v_program, p->'locks');
  END IF;

  -- Both of the member's wallets, in account-id order, before anything is written (migration 0018):
  -- one statement, which locks the rows in the order it returns them.
  IF v_wallets IS NOT NULL THEN
    PERFORM 1 FROM ledger_accounts a WHERE a.program_id = v_program AND a.id IN (v_points, v_stored) ORDER BY a.id FOR NO KEY UPDATE;
  END IF;

  IF coalesce(jsonb_array_length(p->'holds'), 0) > 0 THEN
    PERFORM ll_plan_holds(v_program, p->'holds');
  END IF;

  -- Each entry's wallet balances after are facts named entry.<index>.<seq>.
  FOR i IN 0 .. coalesce(jsonb_array_length(p->'entries'), 0) - 1 LOOP
    v_step := p->'entries'->i;
    FOR v_posted IN SELECT * FROM ledger_post_entry(v_program, v_step->'entry', v_step->'accounts', v_step->'postings', coalesce((v_step->>'allowOverdraft')::boolean, false)) LOOP
      v_facts := v_facts || jsonb_build_object(format('entry.%s.%s', i, v_posted.seq), v_posted.balance_after::text);
    END LOOP;
  END LOOP;

  -- Opening balances of members new to the ledger, set-based (ll_plan_openings, migration 0025).
  IF p ? 'openings' THEN
    PERFORM ll_plan_openings(v_program, p->'openings');
  END IF;

  -- 0027 step: a campaign's grants, set-based (ll_plan_grants, migration 0027).
  IF p ? 'grants' THEN
    PERFORM ll_plan_grants(v_program, p->'grants');
  END IF;

  FOR i IN 0 .. coalesce(jsonb_array_length(p->'lots'), 0) - 1 LOOP
    v_done := ll_plan_lot(v_program, p->'lots'->i);
  END LOOP;

  IF p ? 'purchases' THEN
    INSERT INTO purchases SELECT * FROM jsonb_populate_recordset(NULL::purchases, p->'purchases');
  END IF;

  IF coalesce(jsonb_array_length(p->'rows'), 0) > 0 THEN
    PERFORM ll_plan_rows(v_program, p->'rows');
  END IF;

  IF v_wallets IS NOT NULL THEN
    -- Both wallets by their whole primary key, in one statement (migration 0018).
    SELECT max(a.credits_posted - a.debits_posted) FILTER (WHERE a.id = v_points), max(a.debits_pending) FILTER (WHERE a.id = v_points),
           max(a.credits_posted - a.debits_posted) FILTER (WHERE a.id = v_stored), max(a.debits_pending) FILTER (WHERE a.id = v_stored)
      INTO v_pb, v_pp, v_sb, v_sp
      FROM ledger_accounts a WHERE a.program_id = v_program AND a.id IN (v_points, v_stored);
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

  FOR i IN 0 .. coalesce(jsonb_array_length(p->'receipts'), 0) - 1 LOOP
    v_step := p->'receipts'->i;
    INSERT INTO receipts (program_id, id, number, kind, source_id, member_id, purchase_id, entry_id, original_receipt_id, public_token, issued_at, document)
    SELECT r.program_id, r.id, r.number, r.kind, r.source_id, r.member_id, r.purchase_id, r.entry_id, r.original_receipt_id, r.public_token, r.issued_at,
           ll_fill(r.document, v_step->'fills', v_facts)
      FROM jsonb_populate_record(NULL::receipts, v_step->'row') r;
  END LOOP;

  FOR i IN 0 .. coalesce(jsonb_array_length(p->'events'), 0) - 1 LOOP
    v_step := p->'events'->i;
    v_row := v_step->'row';
    -- storedValue.low: only when the plan's spend took the available balance across the threshold.
    IF v_step ? 'whenCrossedBelow'
       AND NOT (v_sb - v_sp < (v_step->'whenCrossedBelow'->>'threshold')::bigint
                AND v_sb - v_sp + (v_step->'whenCrossedBelow'->>'spent')::bigint >= (v_step->'whenCrossedBelow'->>'threshold')::bigint) THEN
      CONTINUE;
    END IF;
    -- Written only when an endpoint may receive it (migration 0019), asked before the insert: the
    -- common case, a program without endpoints, runs no insert at all.
    CONTINUE WHEN NOT (v_row->>'category' = 'marketing' OR v_row->>'endpoint_id' IS NOT NULL OR ll_event_wanted(v_program, v_row->>'type'));
    INSERT INTO events (program_id, id, type, category, member_id, payload, status, available_at, expires_at, endpoint_id)
    SELECT e.program_id, e.id, e.type, e.category, e.member_id, ll_fill(e.payload, v_step->'fills', v_facts), 'pending', e.available_at, e.expires_at, e.endpoint_id
      FROM jsonb_populate_record(NULL::events, v_row) e;
    v_events := v_events || jsonb_build_array(jsonb_build_object('id', v_row->'id', 'type', v_row->'type'));
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
