-- The inbox's primary key becomes (workspace_id, id): it serves lookups and the newest-first list,
-- so the separate (workspace_id, id) index goes (one index fewer to write per ingested event).
DROP INDEX "inbound_events_workspace_idx";--> statement-breakpoint
ALTER TABLE "inbound_events" DROP CONSTRAINT "inbound_events_pkey";--> statement-breakpoint
ALTER TABLE "inbound_events" ADD CONSTRAINT "inbound_events_pkey" PRIMARY KEY("workspace_id","id");
