UPDATE ping_counter SET counter_value = counter_value + $1 WHERE id = (SELECT min(id) FROM ping_counter) RETURNING counter_value
