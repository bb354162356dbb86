CREATE TABLE "api_clients" (
	"id" text PRIMARY KEY NOT NULL,
	"program_id" uuid NOT NULL,
	"name" text NOT NULL,
	"scopes" text[] NOT NULL,
	"secret_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_by" text,
	CONSTRAINT "api_clients_program_id_id_key" UNIQUE("program_id","id")
);
--> statement-breakpoint
CREATE TABLE "programs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"currency" text NOT NULL,
	"timezone" text NOT NULL,
	"country" text NOT NULL,
	"rules" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "member_consent_events" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"member_id" uuid NOT NULL,
	"purpose" text NOT NULL,
	"granted" boolean NOT NULL,
	"effective_at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"recorded_by" text NOT NULL,
	CONSTRAINT "member_consent_events_pkey" PRIMARY KEY("program_id","id")
);
--> statement-breakpoint
CREATE TABLE "members" (
	"program_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"name" text,
	"phone" text,
	"email" text,
	"birthday" date,
	"external_id" text,
	"card_number" text,
	"sms_marketing_consent" boolean DEFAULT false NOT NULL,
	"sms_marketing_consent_at" timestamp with time zone,
	"email_marketing_consent" boolean DEFAULT false NOT NULL,
	"email_marketing_consent_at" timestamp with time zone,
	"do_not_contact" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"erased_at" timestamp with time zone,
	"erased_by" text,
	CONSTRAINT "members_pkey" PRIMARY KEY("program_id","id"),
	CONSTRAINT "members_program_phone_key" UNIQUE("program_id","phone"),
	CONSTRAINT "members_program_external_id_key" UNIQUE("program_id","external_id"),
	CONSTRAINT "members_program_card_number_key" UNIQUE("program_id","card_number")
);
--> statement-breakpoint
ALTER TABLE "api_clients" ADD CONSTRAINT "api_clients_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "member_consent_events" ADD CONSTRAINT "member_consent_events_member_fkey" FOREIGN KEY ("program_id","member_id") REFERENCES "public"."members"("program_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "members" ADD CONSTRAINT "members_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_clients_program_created_idx" ON "api_clients" USING btree ("program_id","created_at");