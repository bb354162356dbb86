CREATE TABLE "member_tiers" (
	"program_id" uuid NOT NULL,
	"member_id" uuid NOT NULL,
	"tier_code" text NOT NULL,
	"since" timestamp with time zone NOT NULL,
	"guaranteed_until" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "member_tiers_pkey" PRIMARY KEY("program_id","member_id")
);
--> statement-breakpoint
CREATE TABLE "tier_changes" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"member_id" uuid NOT NULL,
	"from_tier" text,
	"to_tier" text,
	"reason" text NOT NULL,
	"metric" bigint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"purchase_id" uuid,
	CONSTRAINT "tier_changes_pkey" PRIMARY KEY("program_id","id")
);
--> statement-breakpoint
ALTER TABLE "purchases" ADD COLUMN "discounts" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "purchases" ADD COLUMN "tier_code" text;--> statement-breakpoint
ALTER TABLE "purchases" ADD COLUMN "earn_multiplier" text DEFAULT '1' NOT NULL;--> statement-breakpoint
CREATE INDEX "member_tiers_review_idx" ON "member_tiers" USING btree ("program_id","guaranteed_until");--> statement-breakpoint
CREATE INDEX "tier_changes_member_idx" ON "tier_changes" USING btree ("program_id","member_id","at");