-- widen.sql: the explicit migration step: counter_value INTEGER (a table the
-- Python original made) becomes BIGINT.  Run it once no original is left
-- (pingpong-worker --migrate widen, as the table's owner): the rewrite
-- changes the result type of the original's cached UPDATE, which then
-- fails on each of its pooled connections (PROTOCOLS.md §K).  This
-- service's statements are typed bigint (increment.sql) and go on.
-- Answers one row: the column's type before.  The lock waits at most 2 s
-- (a long transaction holding the table): every increment queues behind
-- an ALTER that waits, so it gives up instead, and the step can be re-run.
BEGIN;
SET LOCAL client_min_messages = warning;
SET LOCAL lock_timeout = '2s';
-- Run on its own connection, without the worker's start-up schema: on a
-- database without the table it changes nothing and says so (a worker's
-- start makes the table, BIGINT from the start).
DO $$
BEGIN
    IF to_regclass('ping_counter') IS NULL THEN
        RAISE EXCEPTION 'no table ping_counter in database % (schema %): nothing to widen; '
            'a worker''s start or the bootstrap (sql/schema.sql) makes it, BIGINT from the start',
            current_database(), current_schema()
            USING ERRCODE = 'undefined_table';
    END IF;
END
$$;
SELECT format_type(a.atttypid, a.atttypmod)
FROM pg_advisory_xact_lock(7047330501), pg_attribute a
WHERE a.attrelid = 'ping_counter'::regclass AND a.attname = 'counter_value';
DO $$
BEGIN
    IF (SELECT atttypid FROM pg_attribute WHERE attrelid = 'ping_counter'::regclass
        AND attname = 'counter_value') <> 'bigint'::regtype THEN
        ALTER TABLE ping_counter ALTER COLUMN counter_value TYPE BIGINT;
    END IF;
END
$$;
COMMIT;
