UPDATE campaign_notifications SET sent_at = now() WHERE id = %(id)s AND sent_at IS NULL
