SELECT counter_value FROM ping_counter ORDER BY id LIMIT 1
