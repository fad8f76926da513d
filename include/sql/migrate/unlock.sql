SELECT pg_advisory_unlock(hashtext('a1_to_a2.schema_migrations'))
