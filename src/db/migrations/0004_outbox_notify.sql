-- Wake the outbox relay when events are written: one NOTIFY per inserting statement, delivered
-- at commit (never for a rolled-back transaction). The relay also polls, so a lost
-- notification only delays publication.
CREATE OR REPLACE FUNCTION "switchboard_outbox_notify"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('switchboard_outbox', '');
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "events_outbox_notify" AFTER INSERT ON "events"
FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_outbox_notify"();
