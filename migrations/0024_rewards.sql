-- Issue 19, rewards for points: the catalog (rewards), each member's count of a reward with a
-- per-member limit (reward_member_counts) and the redemptions (reward_redemptions). A redemption
-- and its cancellation are plans (src/modules/rewards/redeem-plan.ts, cancel-plan.ts): the points
-- entry, the reward's stock and count, the member's counter, the redemption row and the coupon
-- issued, in one statement; the CHECKs on the counters refuse the redemption that would cross them.
CREATE TABLE "reward_member_counts" (
	"program_id" uuid NOT NULL,
	"reward_id" uuid NOT NULL,
	"member_id" uuid NOT NULL,
	"redemptions" integer NOT NULL,
	"max_redemptions" integer NOT NULL,
	CONSTRAINT "reward_member_counts_pkey" PRIMARY KEY("program_id","reward_id","member_id"),
	CONSTRAINT "reward_member_counts_limit_check" CHECK ("reward_member_counts"."redemptions" <= "reward_member_counts"."max_redemptions"),
	CONSTRAINT "reward_member_counts_nonnegative_check" CHECK ("reward_member_counts"."redemptions" >= 0)
);
--> statement-breakpoint
CREATE TABLE "reward_redemptions" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"reward_id" uuid NOT NULL,
	"member_id" uuid NOT NULL,
	"reward_name" text NOT NULL,
	"points" bigint NOT NULL,
	"entry_id" uuid NOT NULL,
	"gives_kind" text NOT NULL,
	"coupon_code" text,
	"campaign_id" uuid,
	"sku" text,
	"item_description" text,
	"status" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"cancelled_at" timestamp with time zone,
	"cancellation_entry_id" uuid,
	CONSTRAINT "reward_redemptions_pkey" PRIMARY KEY("program_id","id"),
	CONSTRAINT "reward_redemptions_status_check" CHECK ("reward_redemptions"."status" in ('active', 'cancelled')),
	CONSTRAINT "reward_redemptions_points_check" CHECK ("reward_redemptions"."points" > 0),
	CONSTRAINT "reward_redemptions_gives_check" CHECK (("reward_redemptions"."gives_kind" = 'coupon' and "reward_redemptions"."coupon_code" is not null) or ("reward_redemptions"."gives_kind" = 'item' and "reward_redemptions"."sku" is not null))
);
--> statement-breakpoint
CREATE TABLE "rewards" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"name" text NOT NULL,
	"points_price" bigint NOT NULL,
	"stock_left" bigint,
	"redemptions" bigint DEFAULT 0 NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"max_per_member" integer,
	"gives_kind" text NOT NULL,
	"campaign_id" uuid,
	"sku" text,
	"item_description" text,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rewards_pkey" PRIMARY KEY("program_id","id"),
	CONSTRAINT "rewards_price_check" CHECK ("rewards"."points_price" > 0),
	CONSTRAINT "rewards_stock_check" CHECK ("rewards"."stock_left" is null or "rewards"."stock_left" >= 0),
	CONSTRAINT "rewards_redemptions_check" CHECK ("rewards"."redemptions" >= 0),
	CONSTRAINT "rewards_limit_check" CHECK ("rewards"."max_per_member" is null or "rewards"."max_per_member" > 0),
	CONSTRAINT "rewards_validity_check" CHECK ("rewards"."valid_to" is null or "rewards"."valid_to" > "rewards"."valid_from"),
	CONSTRAINT "rewards_gives_check" CHECK (("rewards"."gives_kind" = 'coupon' and "rewards"."campaign_id" is not null and "rewards"."sku" is null and "rewards"."item_description" is null) or ("rewards"."gives_kind" = 'item' and "rewards"."sku" is not null and "rewards"."campaign_id" is null))
);
--> statement-breakpoint
ALTER TABLE "reward_member_counts" ADD CONSTRAINT "reward_member_counts_reward_fkey" FOREIGN KEY ("program_id","reward_id") REFERENCES "public"."rewards"("program_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reward_redemptions" ADD CONSTRAINT "reward_redemptions_reward_fkey" FOREIGN KEY ("program_id","reward_id") REFERENCES "public"."rewards"("program_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reward_redemptions" ADD CONSTRAINT "reward_redemptions_member_fkey" FOREIGN KEY ("program_id","member_id") REFERENCES "public"."members"("program_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reward_redemptions" ADD CONSTRAINT "reward_redemptions_coupon_fkey" FOREIGN KEY ("program_id","coupon_code") REFERENCES "public"."coupons"("program_id","code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rewards" ADD CONSTRAINT "rewards_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rewards" ADD CONSTRAINT "rewards_campaign_fkey" FOREIGN KEY ("program_id","campaign_id") REFERENCES "public"."coupon_campaigns"("program_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "reward_redemptions_member_idx" ON "reward_redemptions" USING btree ("program_id","member_id","id");
--> statement-breakpoint
-- The reward tables become tables a plan may lock, insert into and update.
-- Otherwise ll_plan_table of migration 0022.
CREATE OR REPLACE FUNCTION ll_plan_table(p_table text, p_for text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_table = ANY (ARRAY['purchases', 'purchase_returns', 'coupon_campaigns', 'coupons', 'coupon_member_uses', 'coupon_redemptions',
                          'members', 'member_tiers', 'tier_changes', 'referral_rewards', 'birthday_rewards',
                          'rewards', 'reward_member_counts', 'reward_redemptions'])
     OR (p_for = 'lock' AND p_table = ANY (ARRAY['journal_entries', 'holds', 'ledger_accounts']))
     OR (p_for = 'update' AND p_table = 'points_lots')
     OR (p_for = 'insert' AND p_table = 'events') THEN
    RETURN p_table;
  END IF;
  RAISE EXCEPTION 'a plan may not % table %', p_for, p_table;
END
$$;
