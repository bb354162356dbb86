CREATE TABLE "holds" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"account_id" uuid NOT NULL,
	"amount" bigint NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	"posted_entry_id" uuid,
	"posted_amount" bigint,
	"reference_type" text,
	"reference_id" text,
	CONSTRAINT "holds_pkey" PRIMARY KEY("program_id","id")
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"program_id" uuid NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"response_status" smallint NOT NULL,
	"response_body" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY("program_id","key")
);
--> statement-breakpoint
CREATE TABLE "journal_entries" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"kind" text NOT NULL,
	"effective_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"member_id" uuid,
	"store_id" text,
	"reason" text,
	"reference_type" text,
	"reference_id" text,
	"reverses_entry_id" uuid,
	"created_by" text NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "journal_entries_pkey" PRIMARY KEY("program_id","id")
);
--> statement-breakpoint
CREATE TABLE "ledger_accounts" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"code" text NOT NULL,
	"type" text NOT NULL,
	"asset" text NOT NULL,
	"member_id" uuid,
	"store_id" text,
	"floor" bigint,
	"tracks_balance" boolean NOT NULL,
	"overdrawn_by_policy" boolean DEFAULT false NOT NULL,
	"debits_posted" bigint DEFAULT 0 NOT NULL,
	"credits_posted" bigint DEFAULT 0 NOT NULL,
	"debits_pending" bigint DEFAULT 0 NOT NULL,
	"credits_pending" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_accounts_pkey" PRIMARY KEY("program_id","id")
);
--> statement-breakpoint
CREATE TABLE "postings" (
	"program_id" uuid NOT NULL,
	"entry_id" uuid NOT NULL,
	"seq" smallint NOT NULL,
	"account_id" uuid NOT NULL,
	"asset" text NOT NULL,
	"amount" bigint NOT NULL,
	"balance_after" bigint,
	CONSTRAINT "postings_pkey" PRIMARY KEY("program_id","entry_id","seq")
);
--> statement-breakpoint
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "holds_pending_expiry_idx" ON "holds" USING btree ("status","expires_at");--> statement-breakpoint
CREATE INDEX "holds_program_account_idx" ON "holds" USING btree ("program_id","account_id");--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "journal_entries_reverses_key" ON "journal_entries" USING btree ("program_id","reverses_entry_id");--> statement-breakpoint
CREATE INDEX "journal_entries_program_effective_idx" ON "journal_entries" USING btree ("program_id","effective_at");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_accounts_program_code_key" ON "ledger_accounts" USING btree ("program_id","code");--> statement-breakpoint
CREATE INDEX "ledger_accounts_program_member_idx" ON "ledger_accounts" USING btree ("program_id","member_id");--> statement-breakpoint
CREATE INDEX "postings_program_account_idx" ON "postings" USING btree ("program_id","account_id","entry_id");