INSERT INTO manual_operations (performed_by, operation, campaign_ids, details, run_id)
VALUES (%(performed_by)s, %(operation)s, %(campaign_ids)s::text[], %(details)s::jsonb, %(run_id)s)
RETURNING id
