CREATE TABLE "ad_metrics_campaign_daily" (
	"workspace_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"account_id" text NOT NULL,
	"campaign_key" text NOT NULL,
	"currency" text NOT NULL,
	"campaign_name" text NOT NULL,
	"impressions" bigint DEFAULT 0 NOT NULL,
	"clicks" bigint DEFAULT 0 NOT NULL,
	"spend_micros" bigint DEFAULT 0 NOT NULL,
	"conversions" numeric(24, 6) DEFAULT '0' NOT NULL,
	"conversion_value_micros" bigint DEFAULT 0 NOT NULL,
	"sessions" bigint DEFAULT 0 NOT NULL,
	"users" bigint DEFAULT 0 NOT NULL,
	"date" date NOT NULL,
	CONSTRAINT "ad_metrics_campaign_daily_pkey" PRIMARY KEY("workspace_id","date","provider","account_id","campaign_key","currency")
);
--> statement-breakpoint
CREATE TABLE "ad_metrics_campaign_weekly" (
	"workspace_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"account_id" text NOT NULL,
	"campaign_key" text NOT NULL,
	"currency" text NOT NULL,
	"campaign_name" text NOT NULL,
	"impressions" bigint DEFAULT 0 NOT NULL,
	"clicks" bigint DEFAULT 0 NOT NULL,
	"spend_micros" bigint DEFAULT 0 NOT NULL,
	"conversions" numeric(24, 6) DEFAULT '0' NOT NULL,
	"conversion_value_micros" bigint DEFAULT 0 NOT NULL,
	"sessions" bigint DEFAULT 0 NOT NULL,
	"users" bigint DEFAULT 0 NOT NULL,
	"week_start" date NOT NULL,
	CONSTRAINT "ad_metrics_campaign_weekly_pkey" PRIMARY KEY("workspace_id","week_start","provider","account_id","campaign_key","currency")
);
--> statement-breakpoint
ALTER TABLE "ad_metrics_campaign_daily" ADD CONSTRAINT "ad_metrics_campaign_daily_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ad_metrics_campaign_weekly" ADD CONSTRAINT "ad_metrics_campaign_weekly_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;