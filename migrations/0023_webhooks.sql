-- Issue 17, webhooks: an endpoint can be disabled (no deliveries while so, retries paused), its
-- secret rotated with an overlap during which the previous secret signs too, and a delivery sent
-- again by hand (attempt_base: the attempts made before the redelivery, so the retry schedule and
-- the attempt limit start over while the log keeps numbering attempts).
ALTER TABLE "webhook_endpoints" ADD COLUMN "enabled" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "previous_secret" text;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "previous_secret_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "secret_rotated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "attempt_base" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- A disabled endpoint wants nothing: the outbox keeps no transactional event for it alone.
CREATE OR REPLACE FUNCTION ll_event_wanted(program uuid, event_type text) RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT EXISTS (
    SELECT 1 FROM webhook_endpoints w
     WHERE w.program_id = $1 AND w.deleted_at IS NULL AND w.enabled
       AND ($2 = ANY (w.event_types) OR (cardinality(w.event_types) = 0 AND $2 <> 'webhook.test')))
$$;
