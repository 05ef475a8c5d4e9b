-- handover.sql: the write freeze that hands the counter over to another
-- database (docs/kubernetes.md: Moving the counter to CloudNativePG).
-- Run ONCE on the OLD database, as its superuser, before the new Cluster
-- imports it:
--   kubectl exec -i postgres-statefulset-0 -n exercises -- \
--     psql -v ON_ERROR_STOP=1 -U postgres -d pingpong < manifests/ha/handover.sql
-- From step 1 on, the old database takes no increment: every pong served
-- from it answers 503 until the new database serves (the switch's downtime).

-- 1. Every new transaction in this database is read-only.
ALTER DATABASE :"DBNAME" SET default_transaction_read_only = on;
-- 2. Sessions opened before keep the old default: end them (the workers
--    reconnect, read-only from now on).
SELECT count(pg_terminate_backend(pid)) AS sessions_ended
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid();
-- 3. The mark, after the last increment: this session may still write, and
--    the lock waits for any increment still running. A worker told
--    PING_PONG_DB_REQUIRE_HANDOVER=on (manifests/ha) serves only on a
--    database holding this table, and only copies taken after this point
--    hold it: a fresh database, or a copy taken before the freeze, never.
SET default_transaction_read_only = off;
BEGIN;
LOCK TABLE ping_counter IN SHARE MODE;
CREATE TABLE IF NOT EXISTS ping_counter_handover (
    counter_value bigint      NOT NULL,
    frozen_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO ping_counter_handover (counter_value)
    SELECT counter_value FROM ping_counter ORDER BY id LIMIT 1;
COMMIT;
SELECT counter_value AS handed_over_at, frozen_at
FROM ping_counter_handover ORDER BY frozen_at DESC LIMIT 1;
