-- Outbound webhooks waiting to be sent, being sent, or sent: the outbox. A feature (a cron run, later a channel) inserts
-- a row in the transaction that records its own result, so the result and its delivery commit together; a sender on
-- any control plane claims due rows under a lease, so a crash mid-send is retried once the lease runs out.
CREATE TABLE webhook_outbox (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    -- What the delivery reports on, such as ('cron_run', 'run_…').
    source_kind TEXT NOT NULL,
    source_id TEXT NOT NULL,
    url TEXT NOT NULL,
    -- The signing secret, encrypted under the key-encryption key with this row's id as associated data.
    secret TEXT NOT NULL,
    body TEXT NOT NULL,
    -- pending | delivered | failed
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    last_http_status INTEGER,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    -- When it was delivered or given up on: the retention counts from here.
    ended_at BIGINT,
    -- The control plane sending it now, and until when its claim holds.
    owner TEXT,
    lease_expires_at BIGINT
);

CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_outbox_source ON webhook_outbox (source_kind, source_id);
CREATE INDEX webhook_outbox_ended ON webhook_outbox (ended_at) WHERE status <> 'pending';
