-- read.sql: the counter, typed bigint whatever the column's type (increment.sql says why).
SELECT counter_value::bigint AS counter_value FROM ping_counter ORDER BY id LIMIT 1
