-- Audit of manual operations: who did what, when, to which campaigns.
CREATE TABLE manual_operations (
    id           BIGSERIAL PRIMARY KEY,
    performed_by TEXT NOT NULL,
    operation    TEXT NOT NULL,
    campaign_ids TEXT[] NOT NULL DEFAULT '{}',
    details      JSONB NOT NULL DEFAULT '{}'::jsonb,
    run_id       TEXT,
    performed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX manual_operations_performed_at_idx ON manual_operations (performed_at);
