-- The audit of manual operations (admin DAG runs), newest first; one run's rows with run_id.
SELECT id, performed_by, operation, campaign_ids, details, run_id, performed_at
FROM manual_operations
WHERE %(run_id)s::text IS NULL OR run_id = %(run_id)s::text
ORDER BY performed_at DESC, id DESC
LIMIT %(limit)s
