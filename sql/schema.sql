-- schema.sql: the counter table, as the Python original makes it (columns, defaults).
-- Each worker runs it on each (re)connect; the database's bootstrap runs it
-- as the table's owner (docs/reliability.md: Who owns the table).  It only acts on what
-- is missing, so on a ready schema it changes nothing and needs no right
-- beyond reading the catalogue: a running original's prepared statements
-- stay valid, and an application role that owns nothing serves.  It never
-- changes counter_value's type: a table made by the original keeps its
-- INTEGER until the explicit step sql/widen.sql (pingpong-worker --migrate
-- widen), run once no original is left.  The advisory lock serialises
-- workers that connect at once.
BEGIN;
-- No NOTICE for what exists already (set here, not as a startup option:
-- a pooler such as PgBouncer refuses those).
SET LOCAL client_min_messages = warning;
DO $$
DECLARE
    missing text[] := '{}';
BEGIN
    PERFORM pg_advisory_xact_lock(7047330501);
    IF to_regclass('ping_counter') IS NULL THEN
        missing := missing || 'the table ping_counter'::text;
    ELSE
        IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('ping_counter')
                       AND attname = 'created_at' AND NOT attisdropped) THEN
            missing := missing || 'its column created_at'::text;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('ping_counter')
                       AND attname = 'updated_at' AND NOT attisdropped) THEN
            missing := missing || 'its column updated_at'::text;
        END IF;
        -- Serving needs SELECT and UPDATE: without them each statement
        -- would fail with the server's bare "permission denied"; said
        -- here, in the one line the worker logs (docs/reliability.md: Who owns the table).
        IF cardinality(missing) = 0 AND NOT (has_table_privilege('ping_counter', 'SELECT')
                                              AND has_table_privilege('ping_counter', 'UPDATE')) THEN
            RAISE EXCEPTION 'ping_counter is not ready: role % lacks % on table ping_counter; '
                'grant it as the table''s owner (docs/reliability.md: Who owns the table)',
                current_user, array_to_string(array_remove(ARRAY[
                    CASE WHEN NOT has_table_privilege('ping_counter', 'SELECT') THEN 'SELECT' END,
                    CASE WHEN NOT has_table_privilege('ping_counter', 'UPDATE') THEN 'UPDATE' END], NULL), ' and ')
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF has_table_privilege('ping_counter', 'SELECT') AND NOT EXISTS (SELECT 1 FROM ping_counter) THEN
            missing := missing || 'its counter row'::text;
        END IF;
    END IF;
    IF cardinality(missing) = 0 THEN
        RETURN;
    END IF;
    -- Each step only when needed: even IF NOT EXISTS asks for the right.
    BEGIN
        IF to_regclass('ping_counter') IS NULL THEN
            -- A new table counts in 64 bits from the start: the original
            -- reads and writes it alike (it never changes an existing table).
            CREATE TABLE ping_counter (
                id            SERIAL PRIMARY KEY,
                counter_value BIGINT NOT NULL DEFAULT 0,
                created_at    TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
                updated_at    TIMESTAMP WITH TIME ZONE DEFAULT NOW()
            );
        ELSIF 'its column created_at' = ANY (missing) OR 'its column updated_at' = ANY (missing) THEN
            -- Adding a column with a default changes no result type: the
            -- original's cached statements stay valid (PROTOCOLS.md §K).
            ALTER TABLE ping_counter
                ADD COLUMN IF NOT EXISTS created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
                ADD COLUMN IF NOT EXISTS updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW();
        END IF;
        INSERT INTO ping_counter (counter_value)
            SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM ping_counter);
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'ping_counter is not ready: % missing, and role % may not add it (%); '
            'run sql/schema.sql as the table''s owner (docs/reliability.md: Who owns the table)',
            array_to_string(missing, ', '), current_user, SQLERRM
            USING ERRCODE = 'insufficient_privilege';
    END;
END
$$;
COMMIT;
