CREATE TABLE "lot_movements" (
	"program_id" uuid NOT NULL,
	"entry_id" uuid NOT NULL,
	"lot_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"points" bigint NOT NULL,
	"restores_entry_id" uuid,
	CONSTRAINT "lot_movements_pkey" PRIMARY KEY("program_id","entry_id","lot_id","kind")
);
--> statement-breakpoint
CREATE TABLE "points_lots" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"member_id" uuid NOT NULL,
	"earned_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone,
	"points" bigint NOT NULL,
	"remaining" bigint NOT NULL,
	"source_entry_id" uuid NOT NULL,
	"expired_entry_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "points_lots_pkey" PRIMARY KEY("program_id","id")
);
--> statement-breakpoint
CREATE INDEX "lot_movements_restores_idx" ON "lot_movements" USING btree ("program_id","restores_entry_id");--> statement-breakpoint
CREATE INDEX "points_lots_member_idx" ON "points_lots" USING btree ("program_id","member_id","expires_at");--> statement-breakpoint
CREATE INDEX "points_lots_due_idx" ON "points_lots" USING btree ("program_id","expires_at") WHERE remaining > 0 and expires_at is not null;