CREATE TABLE "coupon_campaigns" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"percent_off" text,
	"amount_off" bigint,
	"min_spend" bigint DEFAULT 0 NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"max_uses_per_code" integer,
	"max_uses_per_member" integer,
	"budget" bigint,
	"budget_used" bigint DEFAULT 0 NOT NULL,
	"redemptions" bigint DEFAULT 0 NOT NULL,
	"code_mode" text NOT NULL,
	"shared_code" text,
	"status" text DEFAULT 'active' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"archived_at" timestamp with time zone,
	CONSTRAINT "coupon_campaigns_pkey" PRIMARY KEY("program_id","id"),
	CONSTRAINT "coupon_campaigns_kind_check" CHECK (("coupon_campaigns"."kind" = 'percent' and "coupon_campaigns"."percent_off" is not null and "coupon_campaigns"."amount_off" is null) or ("coupon_campaigns"."kind" = 'fixed' and "coupon_campaigns"."amount_off" > 0 and "coupon_campaigns"."percent_off" is null)),
	CONSTRAINT "coupon_campaigns_budget_check" CHECK ("coupon_campaigns"."budget" is null or "coupon_campaigns"."budget_used" <= "coupon_campaigns"."budget"),
	CONSTRAINT "coupon_campaigns_counters_check" CHECK ("coupon_campaigns"."budget_used" >= 0 and "coupon_campaigns"."redemptions" >= 0 and "coupon_campaigns"."min_spend" >= 0),
	CONSTRAINT "coupon_campaigns_limits_check" CHECK (("coupon_campaigns"."max_uses_per_code" is null or "coupon_campaigns"."max_uses_per_code" > 0) and ("coupon_campaigns"."max_uses_per_member" is null or "coupon_campaigns"."max_uses_per_member" > 0) and ("coupon_campaigns"."budget" is null or "coupon_campaigns"."budget" > 0)),
	CONSTRAINT "coupon_campaigns_code_mode_check" CHECK (("coupon_campaigns"."code_mode" = 'shared' and "coupon_campaigns"."shared_code" is not null) or ("coupon_campaigns"."code_mode" = 'unique' and "coupon_campaigns"."shared_code" is null)),
	CONSTRAINT "coupon_campaigns_status_check" CHECK ("coupon_campaigns"."status" in ('active', 'archived')),
	CONSTRAINT "coupon_campaigns_validity_check" CHECK ("coupon_campaigns"."valid_to" is null or "coupon_campaigns"."valid_to" > "coupon_campaigns"."valid_from")
);
--> statement-breakpoint
CREATE TABLE "coupon_member_uses" (
	"program_id" uuid NOT NULL,
	"campaign_id" uuid NOT NULL,
	"member_id" uuid NOT NULL,
	"uses" integer NOT NULL,
	"max_uses" integer NOT NULL,
	CONSTRAINT "coupon_member_uses_pkey" PRIMARY KEY("program_id","campaign_id","member_id"),
	CONSTRAINT "coupon_member_uses_uses_check" CHECK ("coupon_member_uses"."uses" <= "coupon_member_uses"."max_uses"),
	CONSTRAINT "coupon_member_uses_nonnegative_check" CHECK ("coupon_member_uses"."uses" >= 0)
);
--> statement-breakpoint
CREATE TABLE "coupon_redemptions" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"purchase_id" uuid NOT NULL,
	"campaign_id" uuid NOT NULL,
	"code" text NOT NULL,
	"member_id" uuid NOT NULL,
	"discount" bigint NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"released_at" timestamp with time zone,
	CONSTRAINT "coupon_redemptions_pkey" PRIMARY KEY("program_id","id"),
	CONSTRAINT "coupon_redemptions_purchase_campaign_key" UNIQUE("program_id","purchase_id","campaign_id"),
	CONSTRAINT "coupon_redemptions_status_check" CHECK ("coupon_redemptions"."status" in ('active', 'released')),
	CONSTRAINT "coupon_redemptions_discount_check" CHECK ("coupon_redemptions"."discount" >= 0)
);
--> statement-breakpoint
CREATE TABLE "coupons" (
	"program_id" uuid NOT NULL,
	"code" text NOT NULL,
	"campaign_id" uuid NOT NULL,
	"member_id" uuid,
	"uses" integer DEFAULT 0 NOT NULL,
	"max_uses" integer,
	"issued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"issued_by" text NOT NULL,
	"reason" text,
	CONSTRAINT "coupons_pkey" PRIMARY KEY("program_id","code"),
	CONSTRAINT "coupons_uses_check" CHECK ("coupons"."max_uses" is null or "coupons"."uses" <= "coupons"."max_uses"),
	CONSTRAINT "coupons_uses_nonnegative_check" CHECK ("coupons"."uses" >= 0)
);
--> statement-breakpoint
CREATE TABLE "referral_rewards" (
	"program_id" uuid NOT NULL,
	"referee_id" uuid NOT NULL,
	"referrer_id" uuid NOT NULL,
	"purchase_id" uuid NOT NULL,
	"entry_id" uuid,
	"referee_points" bigint NOT NULL,
	"referrer_points" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "referral_rewards_pkey" PRIMARY KEY("program_id","referee_id"),
	CONSTRAINT "referral_rewards_points_check" CHECK ("referral_rewards"."referee_points" >= 0 and "referral_rewards"."referrer_points" >= 0)
);
--> statement-breakpoint
ALTER TABLE "members" ADD COLUMN "referral_code" text DEFAULT loyalty_random_code(10) NOT NULL;--> statement-breakpoint
ALTER TABLE "members" ADD COLUMN "referred_by" uuid;--> statement-breakpoint
ALTER TABLE "coupon_campaigns" ADD CONSTRAINT "coupon_campaigns_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "coupon_member_uses" ADD CONSTRAINT "coupon_member_uses_campaign_fkey" FOREIGN KEY ("program_id","campaign_id") REFERENCES "public"."coupon_campaigns"("program_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "coupon_redemptions" ADD CONSTRAINT "coupon_redemptions_coupon_fkey" FOREIGN KEY ("program_id","code") REFERENCES "public"."coupons"("program_id","code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "coupons" ADD CONSTRAINT "coupons_campaign_fkey" FOREIGN KEY ("program_id","campaign_id") REFERENCES "public"."coupon_campaigns"("program_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "coupons" ADD CONSTRAINT "coupons_member_fkey" FOREIGN KEY ("program_id","member_id") REFERENCES "public"."members"("program_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referral_rewards" ADD CONSTRAINT "referral_rewards_referee_fkey" FOREIGN KEY ("program_id","referee_id") REFERENCES "public"."members"("program_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referral_rewards" ADD CONSTRAINT "referral_rewards_referrer_fkey" FOREIGN KEY ("program_id","referrer_id") REFERENCES "public"."members"("program_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "coupon_redemptions_campaign_idx" ON "coupon_redemptions" USING btree ("program_id","campaign_id","created_at");--> statement-breakpoint
CREATE INDEX "coupons_campaign_idx" ON "coupons" USING btree ("program_id","campaign_id","code");--> statement-breakpoint
CREATE INDEX "coupons_member_idx" ON "coupons" USING btree ("program_id","member_id");--> statement-breakpoint
CREATE INDEX "referral_rewards_referrer_idx" ON "referral_rewards" USING btree ("program_id","referrer_id");--> statement-breakpoint
ALTER TABLE "members" ADD CONSTRAINT "members_referred_by_fkey" FOREIGN KEY ("program_id","referred_by") REFERENCES "public"."members"("program_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "members" ADD CONSTRAINT "members_program_referral_code_key" UNIQUE("program_id","referral_code");