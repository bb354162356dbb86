CREATE TABLE "job_runs" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"job" text NOT NULL,
	"run_date" date,
	"as_of" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 1 NOT NULL,
	"claimed_by" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"result" jsonb,
	"error" text,
	CONSTRAINT "job_runs_pkey" PRIMARY KEY("program_id","id"),
	CONSTRAINT "job_runs_program_job_date_key" UNIQUE("program_id","job","run_date"),
	CONSTRAINT "job_runs_status_check" CHECK ("job_runs"."status" in ('running', 'succeeded', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "birthday_rewards" (
	"program_id" uuid NOT NULL,
	"member_id" uuid NOT NULL,
	"year" integer NOT NULL,
	"celebrated_on" date NOT NULL,
	"points" bigint NOT NULL,
	"entry_id" uuid,
	"as_of" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "birthday_rewards_pkey" PRIMARY KEY("program_id","member_id","year"),
	CONSTRAINT "birthday_rewards_points_check" CHECK ("birthday_rewards"."points" >= 0)
);
--> statement-breakpoint
ALTER TABLE "job_runs" ADD CONSTRAINT "job_runs_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "birthday_rewards" ADD CONSTRAINT "birthday_rewards_member_fkey" FOREIGN KEY ("program_id","member_id") REFERENCES "public"."members"("program_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "job_runs_program_job_idx" ON "job_runs" USING btree ("program_id","job","id");