-- Session-level lock: one migrator at a time, whichever worker gets there first.
SELECT pg_advisory_lock(hashtext('a1_to_a2.schema_migrations'))
