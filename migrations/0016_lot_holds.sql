CREATE TABLE "lot_holds" (
	"program_id" uuid NOT NULL,
	"hold_id" uuid NOT NULL,
	"lot_id" uuid NOT NULL,
	"points" bigint NOT NULL,
	"cut" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "lot_holds_pkey" PRIMARY KEY("program_id","hold_id","lot_id")
);
--> statement-breakpoint
ALTER TABLE "points_lots" ADD COLUMN "held" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "lot_holds_lot_idx" ON "lot_holds" USING btree ("program_id","lot_id");--> statement-breakpoint
ALTER TABLE "points_lots" ADD CONSTRAINT "points_lots_held_check" CHECK ("points_lots"."held" >= 0 and "points_lots"."held" <= "points_lots"."remaining");