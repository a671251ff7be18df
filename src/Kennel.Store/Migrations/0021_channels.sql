-- Messaging channels (the workspace config's `channels` section): every message in or out, the events already taken
-- (so a platform's retry is a no-op), and each channel's counters for an honest status.

-- One row per platform event taken: the insert that claims it is in the transaction that queues its run, so a retried
-- delivery (Slack's X-Slack-Retry-Num, a Telegram update id sent again) finds its key and does nothing.
CREATE TABLE channel_events (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    channel TEXT NOT NULL,
    event_id TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, channel, event_id)
);

CREATE INDEX channel_events_received ON channel_events (received_at);

-- Kennel's own record of each message, in (from an allowed sender) and out (an answer, an agent's or a person's send,
-- a reaction, a pin). Outbound rows are also the outbox: pending until sent or given up on, claimed under a lease.
CREATE TABLE channel_messages (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    channel TEXT NOT NULL,
    -- in | out
    direction TEXT NOT NULL,
    -- message (in) | send | react | pin (out)
    action TEXT NOT NULL,
    chat TEXT NOT NULL,
    thread TEXT,
    sender TEXT,
    text TEXT NOT NULL,
    -- For react and pin: the platform's id of the message acted on; for react, the emoji.
    target_message TEXT,
    emoji TEXT,
    -- The platform's id of this message, once known.
    platform_message_id TEXT,
    -- In: the run answering it; out: the run whose answer it is, if any.
    run_id TEXT,
    -- In: awaiting until its run's answer is queued, then answered. Out: pending | sent | failed.
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    last_error TEXT,
    last_http_status INTEGER,
    owner TEXT,
    lease_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);

CREATE INDEX channel_messages_history ON channel_messages (workspace_id, channel, id);
CREATE INDEX channel_messages_due ON channel_messages (next_attempt_at) WHERE status = 'pending';
CREATE INDEX channel_messages_awaiting ON channel_messages (run_id) WHERE status = 'awaiting';

-- Each channel's counters and last events, updated in the transactions that record them.
CREATE TABLE channel_stats (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    channel TEXT NOT NULL,
    received_count BIGINT NOT NULL DEFAULT 0,
    ignored_count BIGINT NOT NULL DEFAULT 0,
    sent_count BIGINT NOT NULL DEFAULT 0,
    failed_count BIGINT NOT NULL DEFAULT 0,
    last_inbound_at BIGINT,
    last_ignored_at BIGINT,
    last_ignored_sender TEXT,
    last_sent_at BIGINT,
    last_failed_at BIGINT,
    last_error TEXT,
    PRIMARY KEY (workspace_id, channel)
);
