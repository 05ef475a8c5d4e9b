-- increment.sql: adds the first parameter to the counter; returns the new value.
-- updated_at as the original keeps it.  Typed bigint both ways, whatever
-- counter_value's type: widening the column (sql/widen.sql) then changes
-- neither this statement's parameter nor its result type, so its prepared
-- form stays valid.  On the original's INTEGER column a sum past
-- 2147483647 fails (22003, integer out of range): no number wraps.
-- set_config(..., true) is SET LOCAL for this statement's own transaction:
-- it commits at least as durably as synchronous_commit = on whatever the
-- system, database, role or session default (remote_apply is kept), with a
-- prepared or an unnamed statement, and through a transaction pooler.
UPDATE ping_counter SET counter_value = counter_value + $1::bigint, updated_at = NOW()
WHERE id = (SELECT min(id) FROM ping_counter)
  AND set_config('synchronous_commit',
      CASE current_setting('synchronous_commit') WHEN 'remote_apply' THEN 'remote_apply' ELSE 'on' END,
      true) IS NOT NULL
RETURNING counter_value::bigint AS counter_value
