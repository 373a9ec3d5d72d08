CREATE TABLE "ad_metrics_daily" (
	"workspace_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"account_id" text NOT NULL,
	"date" date NOT NULL,
	"campaign_external_id" text NOT NULL,
	"campaign_name" text NOT NULL,
	"campaign_key" text NOT NULL,
	"source" text DEFAULT '' NOT NULL,
	"medium" text DEFAULT '' NOT NULL,
	"channel" text DEFAULT '' NOT NULL,
	"impressions" bigint DEFAULT 0 NOT NULL,
	"clicks" bigint DEFAULT 0 NOT NULL,
	"spend_micros" bigint DEFAULT 0 NOT NULL,
	"currency" text NOT NULL,
	"conversions" numeric(20, 6) DEFAULT '0' NOT NULL,
	"conversion_value_micros" bigint DEFAULT 0 NOT NULL,
	"sessions" bigint DEFAULT 0 NOT NULL,
	"users" bigint DEFAULT 0 NOT NULL,
	"sync_token" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ad_metrics_daily_pkey" PRIMARY KEY("workspace_id","provider","account_id","date","campaign_external_id","source","medium")
);
--> statement-breakpoint
CREATE TABLE "ad_metrics_daily_rollup" (
	"workspace_id" uuid NOT NULL,
	"date" date NOT NULL,
	"provider" text NOT NULL,
	"account_id" text NOT NULL,
	"currency" text NOT NULL,
	"source" text DEFAULT '' NOT NULL,
	"channel" text DEFAULT '' NOT NULL,
	"impressions" bigint DEFAULT 0 NOT NULL,
	"clicks" bigint DEFAULT 0 NOT NULL,
	"spend_micros" bigint DEFAULT 0 NOT NULL,
	"conversions" numeric(24, 6) DEFAULT '0' NOT NULL,
	"conversion_value_micros" bigint DEFAULT 0 NOT NULL,
	"sessions" bigint DEFAULT 0 NOT NULL,
	"users" bigint DEFAULT 0 NOT NULL,
	"row_count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "ad_metrics_daily_rollup_pkey" PRIMARY KEY("workspace_id","date","provider","account_id","currency","source","channel")
);
--> statement-breakpoint
CREATE TABLE "analytics_connections" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"account_id" text NOT NULL,
	"name" text NOT NULL,
	"credentials_ciphertext" text NOT NULL,
	"credentials_key_id" text NOT NULL,
	"token_expires_at" timestamp with time zone,
	"schedule" text NOT NULL,
	"currency" text,
	"time_zone" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"synced_through" date,
	"last_sync_at" timestamp with time zone,
	"last_sync_status" text,
	"last_error" text,
	"lease_id" uuid,
	"lease_expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "analytics_reports" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"status" text NOT NULL,
	"request" jsonb NOT NULL,
	"requested_by_user_id" uuid,
	"requested_by_api_key_id" uuid,
	"result_json" jsonb,
	"result_csv" text,
	"row_count" integer,
	"error" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "analytics_sync_checkpoints" (
	"connection_id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"run_id" uuid,
	"range_from" date NOT NULL,
	"range_to" date NOT NULL,
	"window_from" date NOT NULL,
	"window_to" date NOT NULL,
	"cursor" text,
	"sync_token" uuid NOT NULL,
	"backfill" boolean DEFAULT false NOT NULL,
	"resume_at" timestamp with time zone,
	"reason" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "analytics_sync_runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"trigger" text NOT NULL,
	"status" text NOT NULL,
	"range_from" date,
	"range_to" date,
	"backfill" boolean DEFAULT false NOT NULL,
	"rows_upserted" integer DEFAULT 0 NOT NULL,
	"rows_deleted" integer DEFAULT 0 NOT NULL,
	"requests" integer DEFAULT 0 NOT NULL,
	"pages" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"duration_ms" integer,
	"error" text,
	"resume_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ad_metrics_daily" ADD CONSTRAINT "ad_metrics_daily_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ad_metrics_daily_rollup" ADD CONSTRAINT "ad_metrics_daily_rollup_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analytics_connections" ADD CONSTRAINT "analytics_connections_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analytics_reports" ADD CONSTRAINT "analytics_reports_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analytics_sync_checkpoints" ADD CONSTRAINT "analytics_sync_checkpoints_connection_id_analytics_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."analytics_connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analytics_sync_checkpoints" ADD CONSTRAINT "analytics_sync_checkpoints_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analytics_sync_runs" ADD CONSTRAINT "analytics_sync_runs_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analytics_sync_runs" ADD CONSTRAINT "analytics_sync_runs_connection_id_analytics_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."analytics_connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ad_metrics_daily_workspace_date_idx" ON "ad_metrics_daily" USING btree ("workspace_id","date");--> statement-breakpoint
CREATE INDEX "ad_metrics_daily_campaign_idx" ON "ad_metrics_daily" USING btree ("workspace_id","campaign_key","date");--> statement-breakpoint
CREATE UNIQUE INDEX "analytics_connections_account_key" ON "analytics_connections" USING btree ("workspace_id","provider","account_id");--> statement-breakpoint
CREATE INDEX "analytics_connections_workspace_idx" ON "analytics_connections" USING btree ("workspace_id","id");--> statement-breakpoint
CREATE INDEX "analytics_reports_workspace_idx" ON "analytics_reports" USING btree ("workspace_id","id");--> statement-breakpoint
CREATE INDEX "analytics_sync_runs_connection_idx" ON "analytics_sync_runs" USING btree ("workspace_id","connection_id","id");--> statement-breakpoint
CREATE INDEX "analytics_sync_runs_status_idx" ON "analytics_sync_runs" USING btree ("status","created_at") WHERE status in ('queued', 'running');