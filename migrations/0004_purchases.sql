CREATE TABLE "purchase_returns" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"purchase_id" uuid NOT NULL,
	"lines" jsonb,
	"amount" bigint NOT NULL,
	"refunds" jsonb NOT NULL,
	"points_clawed_back" bigint NOT NULL,
	"points_debt" bigint NOT NULL,
	"entry_id" uuid,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	CONSTRAINT "purchase_returns_pkey" PRIMARY KEY("program_id","id")
);
--> statement-breakpoint
CREATE TABLE "purchases" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"member_id" uuid NOT NULL,
	"store_id" text NOT NULL,
	"terminal_id" text NOT NULL,
	"external_id" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"currency" text NOT NULL,
	"status" text NOT NULL,
	"lines" jsonb NOT NULL,
	"tenders" jsonb NOT NULL,
	"subtotal" bigint NOT NULL,
	"discount_total" bigint NOT NULL,
	"total" bigint NOT NULL,
	"money_paid" bigint NOT NULL,
	"points_earned" bigint NOT NULL,
	"points_redeemed" bigint NOT NULL,
	"stored_value_used" bigint NOT NULL,
	"returned_total" bigint NOT NULL,
	"points_clawed_back" bigint NOT NULL,
	"points_debt" bigint NOT NULL,
	"return_mode" text,
	"entry_id" uuid,
	"holds" jsonb NOT NULL,
	"hold_expires_at" timestamp with time zone,
	"invoice" jsonb,
	"rules_effective_from" timestamp with time zone NOT NULL,
	"warnings" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	CONSTRAINT "purchases_pkey" PRIMARY KEY("program_id","id")
);
--> statement-breakpoint
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "purchase_returns_purchase_idx" ON "purchase_returns" USING btree ("program_id","purchase_id");--> statement-breakpoint
CREATE UNIQUE INDEX "purchases_program_store_external_key" ON "purchases" USING btree ("program_id","store_id","external_id");--> statement-breakpoint
CREATE INDEX "purchases_program_member_idx" ON "purchases" USING btree ("program_id","member_id","id");--> statement-breakpoint
CREATE INDEX "purchases_program_occurred_idx" ON "purchases" USING btree ("program_id","occurred_at");--> statement-breakpoint
CREATE INDEX "purchases_pending_expiry_idx" ON "purchases" USING btree ("status","hold_expires_at");