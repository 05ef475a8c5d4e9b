-- increment.sql: adds the first parameter to the counter; returns the new value.
-- set_config(..., true) is SET LOCAL for this statement's own transaction:
-- it commits at least as durably as synchronous_commit = on whatever the
-- system, database, role or session default (remote_apply is kept), with a
-- prepared or an unnamed statement, and through a transaction pooler.
UPDATE ping_counter SET counter_value = counter_value + $1
WHERE id = (SELECT min(id) FROM ping_counter)
  AND set_config('synchronous_commit',
      CASE current_setting('synchronous_commit') WHEN 'remote_apply' THEN 'remote_apply' ELSE 'on' END,
      true) IS NOT NULL
RETURNING counter_value
