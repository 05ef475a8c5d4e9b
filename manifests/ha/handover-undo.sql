-- handover-undo.sql: gives the counter back to the OLD database when the
-- move is abandoned (docs/kubernetes.md: Moving the counter to CloudNativePG).
-- Run on the old database as its superuser, and only once no pod counts on
-- the new one (the overlay's Rollout undone, the new Cluster deleted):
--   kubectl exec -i postgres-statefulset-0 -n exercises -- \
--     psql -v ON_ERROR_STOP=1 -U postgres -d pingpong < manifests/ha/handover-undo.sql
-- The mark goes with the freeze: a copy taken later, once the old database
-- counts again, must not pass for a handed-over one.
SET default_transaction_read_only = off;
DROP TABLE IF EXISTS ping_counter_handover;
ALTER DATABASE :"DBNAME" RESET default_transaction_read_only;
SELECT count(pg_terminate_backend(pid)) AS sessions_ended
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid();
