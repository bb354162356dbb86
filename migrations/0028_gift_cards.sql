-- Issue 19, gift cards (docs/gift-cards.md): prepaid cards that need not belong to a member. A card
-- is a row here and a wallet of its own in the ledger (ledger_accounts type gift_card, floor 0,
-- running totals like a member wallet: its debits are guarded by ledger_post_entry). The code is
-- kept only as its SHA-256 (a bearer credential: 16 Crockford base32 characters, 80 bits), with
-- its last four characters to show; the PIN only as scrypt. Wrong PINs are counted on the card
-- (pin_failures) and lock it for a while (pin_locked_until); every PIN check writes the card at
-- the version its load saw, so concurrent guesses are counted one after another.
CREATE TABLE "gift_cards" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"code_hash" text NOT NULL,
	"code_last4" text NOT NULL,
	"pin_hash" text,
	"pin_failures" integer DEFAULT 0 NOT NULL,
	"pin_locked_until" timestamp with time zone,
	"currency" text NOT NULL,
	"member_id" uuid,
	"attached_at" timestamp with time zone,
	"batch_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	CONSTRAINT "gift_cards_pkey" PRIMARY KEY("program_id","id"),
	CONSTRAINT "gift_cards_pin_failures_check" CHECK ("gift_cards"."pin_failures" >= 0),
	CONSTRAINT "gift_cards_attached_check" CHECK (("gift_cards"."member_id" is null) = ("gift_cards"."attached_at" is null))
);
--> statement-breakpoint
ALTER TABLE "gift_cards" ADD CONSTRAINT "gift_cards_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gift_cards" ADD CONSTRAINT "gift_cards_member_fkey" FOREIGN KEY ("program_id","member_id") REFERENCES "public"."members"("program_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "gift_cards_program_code_key" ON "gift_cards" USING btree ("program_id","code_hash");--> statement-breakpoint
CREATE INDEX "gift_cards_member_idx" ON "gift_cards" USING btree ("program_id","member_id") WHERE member_id is not null;--> statement-breakpoint
-- A sale paid only with gift cards (and money) need not name a member: it earns nothing and its
-- receipt names nobody.
ALTER TABLE "purchases" ALTER COLUMN "member_id" DROP NOT NULL;--> statement-breakpoint
-- Otherwise ll_plan_table of migration 0027 (0025's tables and the segment campaigns'), and gift_cards: a card issued (insert), its PIN
-- failures counted or cleared and its attachment to a member (update, at the version the load saw).
CREATE OR REPLACE FUNCTION ll_plan_table(p_table text, p_for text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_table = ANY (ARRAY['purchases', 'purchase_returns', 'coupon_campaigns', 'coupons', 'coupon_member_uses', 'coupon_redemptions',
                          'members', 'member_tiers', 'tier_changes', 'referral_rewards', 'birthday_rewards',
                          'rewards', 'reward_member_counts', 'reward_redemptions',
                          'gift_cards'])
     OR (p_for = 'lock' AND p_table = ANY (ARRAY['journal_entries', 'holds', 'ledger_accounts']))
     OR (p_for = 'update' AND p_table = ANY (ARRAY['points_lots', 'member_imports', 'segment_campaigns']))
     OR (p_for = 'insert' AND p_table = ANY (ARRAY['events', 'member_consent_events', 'member_import_rows', 'segment_campaign_grants'])) THEN
    RETURN p_table;
  END IF;
  RAISE EXCEPTION 'a plan may not % table %', p_for, p_table;
END
$$;
--> statement-breakpoint
-- Their receipts (and their returns' receipts) name nobody either.
ALTER TABLE "receipts" ALTER COLUMN "member_id" DROP NOT NULL;
