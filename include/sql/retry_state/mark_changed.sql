-- Campaigns an advanced read found changed (or, after a full listing, every campaign) that this
-- run did not list: they are listed when next polled.
UPDATE campaign_watch
SET changed = TRUE
WHERE (%(everyone)s OR campaign_id = ANY(%(changed_ids)s::text[]))
  AND NOT campaign_id = ANY(%(listed_ids)s::text[])
  AND NOT changed
