-- Gift cards can be blocked (a card reported lost or stolen) and unblocked by the program
-- (docs/gift-cards.md): a blocked card cannot pay, be loaded or have its balance checked; its
-- value stays in its wallet. Who blocked it and why are kept with the time.
ALTER TABLE "gift_cards" ADD COLUMN "blocked_at" timestamptz;
--> statement-breakpoint
ALTER TABLE "gift_cards" ADD COLUMN "blocked_reason" text;
--> statement-breakpoint
ALTER TABLE "gift_cards" ADD COLUMN "blocked_by" text;
--> statement-breakpoint
ALTER TABLE "gift_cards" ADD CONSTRAINT "gift_cards_blocked_check" CHECK (("blocked_at" is null) = ("blocked_reason" is null) and ("blocked_at" is null) = ("blocked_by" is null));
