-- Conversations, their append-only transcripts, and runs (one agent turn each), claimed under leases like sessions.

CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    -- An optional name such as 'main', unique per agent among the conversations that are not archived.
    conversation_key TEXT,
    agent TEXT NOT NULL,
    label TEXT,
    -- off | minimal | low | medium | high; null follows the agent's default.
    thinking TEXT,
    input_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    cache_read_tokens BIGINT NOT NULL DEFAULT 0,
    cache_write_tokens BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_activity_at BIGINT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX conversations_key ON conversations (workspace_id, agent, conversation_key)
    WHERE conversation_key IS NOT NULL AND archived = 0;
-- The list: newest activity first, a page at a time, never touching a transcript.
CREATE INDEX conversations_activity ON conversations (workspace_id, last_activity_at, id) WHERE archived = 0;

-- One row per completed step, never updated: a user message, an assistant message, a tool call, a tool result.
CREATE TABLE transcript_entries (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    seq BIGINT NOT NULL,
    workspace_id TEXT NOT NULL,
    run_id TEXT,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    text TEXT,
    call_id TEXT,
    tool TEXT,
    arguments TEXT,
    -- The sandbox session reserved for a tool call, recorded before the session is created so it never runs twice.
    session_id TEXT,
    is_error INTEGER NOT NULL DEFAULT 0,
    partial INTEGER NOT NULL DEFAULT 0,
    truncated INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, seq)
);

CREATE INDEX transcript_entries_run ON transcript_entries (run_id, seq);

CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    conversation_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    answer TEXT,
    error_code TEXT,
    error_message TEXT,
    tool_steps INTEGER NOT NULL DEFAULT 0,
    input_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    cache_read_tokens BIGINT NOT NULL DEFAULT 0,
    cache_write_tokens BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    ended_at BIGINT,
    -- The control plane running it, and until when its claim holds.
    owner TEXT,
    lease_expires_at BIGINT,
    cancel_requested_at BIGINT
);

CREATE INDEX runs_workspace ON runs (workspace_id, id);
CREATE INDEX runs_conversation ON runs (conversation_id, id);
CREATE INDEX runs_live ON runs (conversation_id, id) WHERE status IN ('queued', 'running');
