CREATE TABLE "nps_responses" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"member_id" uuid NOT NULL,
	"score" smallint NOT NULL,
	"comment" text,
	"channel" text NOT NULL,
	"responded_at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"recorded_by" text NOT NULL,
	CONSTRAINT "nps_responses_pkey" PRIMARY KEY("program_id","id"),
	CONSTRAINT "nps_responses_score_range" CHECK ("nps_responses"."score" between 0 and 10)
);
--> statement-breakpoint
ALTER TABLE "nps_responses" ADD CONSTRAINT "nps_responses_member_fkey" FOREIGN KEY ("program_id","member_id") REFERENCES "public"."members"("program_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "nps_responses_program_responded_idx" ON "nps_responses" USING btree ("program_id","responded_at");