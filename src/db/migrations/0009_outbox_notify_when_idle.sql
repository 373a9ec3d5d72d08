-- Notify the outbox relay only when the rows just inserted are all that waits in the outbox.
-- A transaction that NOTIFYs takes a database-wide lock at commit and holds it through its WAL
-- flush, so notifying on every emit serialises all capturing transactions (measured: about 3x
-- fewer commits per second). While a backlog exists the relay is busy anyway: it keeps claiming
-- batches until one comes back empty, then looks once more shortly after, then polls.
CREATE OR REPLACE FUNCTION "switchboard_outbox_notify"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  inserted bigint;
  waiting bigint;
BEGIN
  SELECT count(*) INTO inserted FROM new_events;
  SELECT count(*) INTO waiting FROM (SELECT 1 FROM "events" WHERE "published_at" IS NULL LIMIT inserted + 1) w;
  IF waiting <= inserted THEN
    PERFORM pg_notify('switchboard_outbox', '');
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER "events_outbox_notify" ON "events";
--> statement-breakpoint
CREATE TRIGGER "events_outbox_notify" AFTER INSERT ON "events"
REFERENCING NEW TABLE AS new_events
FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_outbox_notify"();
