-- The webhook deliveries each daemon has acted on, remembered for the replay window so a delivery sent again (by a
-- redelivery, a retrying proxy or someone who captured it) starts nothing. A key is a SHA-256 of what identifies the
-- delivery (its signed body, its X-GitHub-Delivery id, or Slack's signed timestamp and body), never the body itself.
-- The key is inserted in the transaction that starts the run, so of two identical deliveries only one commits.
CREATE TABLE webhook_deliveries (
    workspace_id TEXT NOT NULL,
    daemon_id TEXT NOT NULL,
    delivery_key TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    -- Past this (Unix ms) the same delivery is accepted again; the sweeper deletes the row some time after.
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, daemon_id, delivery_key)
);

CREATE INDEX webhook_deliveries_expiry ON webhook_deliveries (expires_at);
