-- Less written per captured purchase (docs/write-path.md has the figures). Every index removed or
-- narrowed here held entries that no query reads; the queries that use them were checked with
-- EXPLAIN and keep their index.
--
-- The outbox writes an event only when an endpoint of the program may receive it. The rule is the
-- dispatcher's (src/modules/events/fan-out.ts, subscribed): a live endpoint listing the type, or
-- listing nothing (every type but webhook.test, which goes only to the endpoint tested). A function
-- so that any insert, a PL/pgSQL one included, asks it in its WHERE without a round trip.
CREATE FUNCTION ll_event_wanted(program uuid, event_type text) RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT EXISTS (
    SELECT 1 FROM webhook_endpoints w
     WHERE w.program_id = $1 AND w.deleted_at IS NULL
       AND ($2 = ANY (w.event_types) OR (cardinality(w.event_types) = 0 AND $2 <> 'webhook.test')))
$$;
--> statement-breakpoint
-- No query reads events by member but the marketing cap, which has events_marketing_sent_idx.
DROP INDEX "events_program_member_idx";--> statement-breakpoint
-- Receipts: one index instead of two serves "one receipt per kind and source" and "the receipts
-- of a purchase" (listing by purchase, the original receipt of a capture, void or return). The
-- check makes the purchase a function of the source for a sale's receipts (it is the source) and
-- null for a top-up's, so for them unique (purchase, kind, source) is unique (kind, source); a
-- return's source is its return id, a key of purchase_returns, which belongs to one purchase.
ALTER TABLE "receipts" ADD CONSTRAINT "receipts_source_check" CHECK (case when "receipts"."kind" in ('purchase', 'capture', 'void') then "receipts"."purchase_id" is not null and "receipts"."source_id" = "receipts"."purchase_id"::text
               when "receipts"."kind" = 'return' then "receipts"."purchase_id" is not null
               when "receipts"."kind" = 'top_up' then "receipts"."purchase_id" is null
               else true end);--> statement-breakpoint
DROP INDEX "receipts_program_source_key";--> statement-breakpoint
DROP INDEX "receipts_program_purchase_idx";--> statement-breakpoint
ALTER TABLE "receipts" ADD CONSTRAINT "receipts_program_purchase_source_key" UNIQUE NULLS NOT DISTINCT("program_id","purchase_id","kind","source_id");--> statement-breakpoint
-- Partial indexes: the rows the predicate leaves out are never looked up. A lookup by
-- reverses_entry_id = x or restores_entry_id = x implies IS NOT NULL, so the planner still uses them.
DROP INDEX "journal_entries_reverses_key";--> statement-breakpoint
CREATE UNIQUE INDEX "journal_entries_reverses_key" ON "journal_entries" USING btree ("program_id","reverses_entry_id") WHERE reverses_entry_id is not null;--> statement-breakpoint
DROP INDEX "lot_movements_restores_idx";--> statement-breakpoint
CREATE INDEX "lot_movements_restores_idx" ON "lot_movements" USING btree ("program_id","restores_entry_id") WHERE restores_entry_id is not null;--> statement-breakpoint
-- The hold-expiry job reads pending (held) sales only; completed ones, nearly all, need no entry.
DROP INDEX "purchases_pending_expiry_idx";--> statement-breakpoint
CREATE INDEX "purchases_pending_expiry_idx" ON "purchases" USING btree ("hold_expires_at") WHERE status = 'pending';--> statement-breakpoint
-- A delivery's lease in a column of its own, in no index: claiming it (attempts, last_attempt_at,
-- leased_until) is then a HOT update, where moving next_attempt_at, which webhook_deliveries_due_idx
-- holds, wrote an entry in each of the table's four indexes. Nullable, no default: no rewrite.
ALTER TABLE "webhook_deliveries" ADD COLUMN "leased_until" timestamp with time zone;
