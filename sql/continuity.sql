-- continuity.sql: whether this database holds the handover mark (fcgi/continuity.c).
-- The mark is the table ping_counter_handover, which manifests/ha/handover.sql
-- creates in the old database during the write freeze, so that every copy
-- taken after the freeze carries it and a fresh database never does.
-- to_regclass needs no right on the table, and never fails when it is missing.
SELECT to_regclass('ping_counter_handover') IS NOT NULL
