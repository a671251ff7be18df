-- Discord channels' Gateway connections: which control plane holds each one (under a lease, so that one replica
-- connects per channel), and what that connection last saw, so any replica's channels_status shows the evidence.
CREATE TABLE discord_gateways (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    channel TEXT NOT NULL,
    owner TEXT,
    lease_expires_at BIGINT,
    -- connecting | connected | reconnecting | stopped (a close code only a person can fix; see last_error)
    state TEXT NOT NULL,
    connected_at BIGINT,
    last_ack_at BIGINT,
    last_event_at BIGINT,
    last_error TEXT,
    last_error_at BIGINT,
    -- For a stopped connection: the config version it stopped under. A newer version (the token set again) reconnects.
    config_version BIGINT,
    PRIMARY KEY (workspace_id, channel)
);
