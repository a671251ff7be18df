-- One schema for SQLite and PostgreSQL: only types and syntax both accept. Times are Unix milliseconds.

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

INSERT INTO workspaces (id, name, created_at) VALUES ('ws_default', 'default', 0);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE INDEX api_keys_workspace ON api_keys (workspace_id, created_at);

-- Facts that must be decided once per installation, such as whether the bootstrap admin key was issued.
CREATE TABLE installation (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    credential_hash TEXT NOT NULL,
    vcpus INTEGER NOT NULL,
    memory_mb INTEGER NOT NULL,
    slots INTEGER NOT NULL,
    labels TEXT NOT NULL,
    enrolled_at BIGINT NOT NULL,
    last_seen_at BIGINT
);

CREATE TABLE worker_tokens (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    worker_id TEXT
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    status TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    spec TEXT NOT NULL,
    vcpus INTEGER NOT NULL,
    memory_mb INTEGER NOT NULL,
    timeout_ms BIGINT NOT NULL,
    exit_code INTEGER,
    stdout TEXT,
    stderr TEXT,
    truncated INTEGER NOT NULL DEFAULT 0,
    error_code TEXT,
    error_message TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    ended_at BIGINT,
    worker_id TEXT,
    lease_expires_at BIGINT,
    cancel_requested_at BIGINT,
    vcpu_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
    cpu_seconds DOUBLE PRECISION NOT NULL DEFAULT 0
);

CREATE INDEX sessions_workspace_id ON sessions (workspace_id, id);
CREATE INDEX sessions_workspace_status ON sessions (workspace_id, status, id);
CREATE INDEX sessions_queue ON sessions (id) WHERE status = 'pending' AND worker_id IS NULL;
CREATE INDEX sessions_worker ON sessions (worker_id) WHERE worker_id IS NOT NULL AND status IN ('pending', 'running');

-- Output of live sessions, in chunks keyed by byte offset so a retried report is idempotent. Folded into the session
-- row when it ends.
CREATE TABLE session_output (
    session_id TEXT NOT NULL REFERENCES sessions (id),
    stream TEXT NOT NULL,
    byte_offset BIGINT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (session_id, stream, byte_offset)
);
