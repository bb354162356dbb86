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
