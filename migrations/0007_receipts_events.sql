CREATE TABLE "receipts" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"number" text NOT NULL,
	"kind" text NOT NULL,
	"source_id" text NOT NULL,
	"member_id" uuid NOT NULL,
	"purchase_id" uuid,
	"entry_id" uuid,
	"original_receipt_id" uuid,
	"public_token" text NOT NULL,
	"issued_at" timestamp with time zone NOT NULL,
	"document" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "receipts_pkey" PRIMARY KEY("program_id","id")
);
--> statement-breakpoint
CREATE TABLE "events" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"type" text NOT NULL,
	"category" text NOT NULL,
	"member_id" uuid,
	"payload" jsonb NOT NULL,
	"status" text NOT NULL,
	"available_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone,
	"endpoint_id" uuid,
	"dispatched_at" timestamp with time zone,
	"deliveries" integer DEFAULT 0 NOT NULL,
	"suppressed_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "events_pkey" PRIMARY KEY("program_id","id")
);
--> statement-breakpoint
CREATE TABLE "webhook_attempts" (
	"program_id" uuid NOT NULL,
	"delivery_id" uuid NOT NULL,
	"attempt" integer NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"duration_ms" integer NOT NULL,
	"status_code" integer,
	"error" text,
	"response_body" text,
	CONSTRAINT "webhook_attempts_pkey" PRIMARY KEY("program_id","delivery_id","attempt")
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"event_id" uuid NOT NULL,
	"endpoint_id" uuid NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"last_attempt_at" timestamp with time zone,
	"last_status_code" integer,
	"last_error" text,
	"succeeded_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY("program_id","id")
);
--> statement-breakpoint
CREATE TABLE "webhook_endpoints" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"url" text NOT NULL,
	"description" text,
	"event_types" text[] NOT NULL,
	"secret" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_by" text,
	CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY("program_id","id")
);
--> statement-breakpoint
ALTER TABLE "receipts" ADD CONSTRAINT "receipts_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "receipts_program_number_key" ON "receipts" USING btree ("program_id","number");--> statement-breakpoint
CREATE UNIQUE INDEX "receipts_program_source_key" ON "receipts" USING btree ("program_id","kind","source_id");--> statement-breakpoint
CREATE UNIQUE INDEX "receipts_public_token_key" ON "receipts" USING btree ("public_token");--> statement-breakpoint
CREATE INDEX "receipts_program_member_idx" ON "receipts" USING btree ("program_id","member_id","id");--> statement-breakpoint
CREATE INDEX "receipts_program_purchase_idx" ON "receipts" USING btree ("program_id","purchase_id");--> statement-breakpoint
CREATE INDEX "events_pending_idx" ON "events" USING btree ("available_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "events_program_member_idx" ON "events" USING btree ("program_id","member_id","id");--> statement-breakpoint
CREATE INDEX "events_marketing_sent_idx" ON "events" USING btree ("program_id","member_id","dispatched_at") WHERE category = 'marketing' and deliveries > 0;--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_event_endpoint_key" ON "webhook_deliveries" USING btree ("program_id","event_id","endpoint_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_endpoint_idx" ON "webhook_deliveries" USING btree ("program_id","endpoint_id","id");