-- Analytics at size (issue 20): the nightly analytics snapshot. At 1,000,000 members and
-- 10,000,000 purchases the RFM scores, the lifecycle stages, the summary and the cohorts read every
-- counted purchase of the program (seconds to minutes on two cores, docs/benchmarks.md): the daily
-- job `analytics-snapshot` computes them once a night, and the reports answer from the latest
-- snapshot, with its as-of time, where the request asks for what the job computed.
-- No index is added to purchases: every sale would pay for it, and an index-only scan of ten
-- million entries still takes longer than the 2 s target (docs/benchmarks.md).

-- One computed answer per row: kind (rfm, lifecycle, summary, cohorts) and the question it answers
-- (`params`: empty for rfm and lifecycle, the resolved period and options otherwise), as of
-- `as_of`, in the exact JSON the live report gives.
CREATE TABLE "analytics_snapshots" (
  "program_id" uuid NOT NULL REFERENCES "programs"("id"),
  "id" uuid NOT NULL,
  "as_of" timestamptz NOT NULL,
  "taken_at" timestamptz NOT NULL DEFAULT now(),
  "kind" text NOT NULL,
  "params" text NOT NULL,
  "answer" jsonb NOT NULL,
  CONSTRAINT "analytics_snapshots_pkey" PRIMARY KEY ("program_id", "id"),
  CONSTRAINT "analytics_snapshots_kind_check" CHECK ("kind" in ('rfm', 'lifecycle', 'summary', 'cohorts'))
);
--> statement-breakpoint
CREATE INDEX "analytics_snapshots_lookup_idx" ON "analytics_snapshots" ("program_id", "kind", "params", "as_of");
--> statement-breakpoint
-- Each member's RFM segment (null: no counted purchase, not scored) and lifecycle stage in one
-- snapshot, for GET /v1/members?segment= / ?stage= (paged by member id within the group).
CREATE TABLE "member_analytics_snapshots" (
  "program_id" uuid NOT NULL,
  "snapshot_id" uuid NOT NULL,
  "member_id" uuid NOT NULL,
  "segment" text,
  "stage" text NOT NULL,
  CONSTRAINT "member_analytics_snapshots_pkey" PRIMARY KEY ("program_id", "snapshot_id", "member_id"),
  CONSTRAINT "member_analytics_snapshots_snapshot_fkey" FOREIGN KEY ("program_id", "snapshot_id") REFERENCES "analytics_snapshots"("program_id", "id") ON DELETE CASCADE
);
--> statement-breakpoint
CREATE INDEX "member_analytics_snapshots_segment_idx" ON "member_analytics_snapshots" ("program_id", "snapshot_id", "segment", "member_id") WHERE "segment" IS NOT NULL;
--> statement-breakpoint
CREATE INDEX "member_analytics_snapshots_stage_idx" ON "member_analytics_snapshots" ("program_id", "snapshot_id", "stage", "member_id");
