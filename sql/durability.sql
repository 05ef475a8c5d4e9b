-- durability.sql: the session's synchronous_commit default and the standbys a commit waits for.
SELECT current_setting('synchronous_commit'), current_setting('synchronous_standby_names')
