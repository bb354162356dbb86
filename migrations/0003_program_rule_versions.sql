CREATE TABLE "program_rule_versions" (
	"program_id" uuid NOT NULL,
	"effective_from" timestamp with time zone NOT NULL,
	"rules" jsonb NOT NULL,
	"created_by" text NOT NULL,
	CONSTRAINT "program_rule_versions_pkey" PRIMARY KEY("program_id","effective_from")
);
--> statement-breakpoint
ALTER TABLE "programs" ADD COLUMN "rules_effective_from" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "program_rule_versions" ADD CONSTRAINT "program_rule_versions_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;