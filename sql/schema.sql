-- schema.sql: the counter table, applied by every worker on each (re)connect.
-- Idempotent and safe when many workers connect at once: the advisory lock
-- serialises them, and each step only acts when needed.  Compatible with a
-- database made by the original Python service (ping_counter, counter_value
-- INTEGER, the row with the lowest id is the counter): it widens the column
-- to BIGINT and keeps the count.
BEGIN;
-- No NOTICE for what exists already (set here, not as a startup option:
-- a pooler such as PgBouncer refuses those).
SET LOCAL client_min_messages = warning;
SELECT pg_advisory_xact_lock(7047330501);
CREATE TABLE IF NOT EXISTS ping_counter (
    id            SERIAL PRIMARY KEY,
    counter_value BIGINT NOT NULL DEFAULT 0
);
DO $$
BEGIN
    IF (SELECT data_type FROM information_schema.columns
        WHERE table_schema = current_schema()
          AND table_name = 'ping_counter'
          AND column_name = 'counter_value') <> 'bigint' THEN
        ALTER TABLE ping_counter ALTER COLUMN counter_value TYPE BIGINT;
    END IF;
END
$$;
INSERT INTO ping_counter (counter_value)
    SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM ping_counter);
COMMIT;
