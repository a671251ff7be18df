-- Daemons, the scheduler's schedules and runs, and what a daemon's session records about its trigger.

CREATE TABLE daemons (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    trigger_type TEXT NOT NULL,
    signature TEXT,
    signature_header TEXT,
    -- Kept as given: verifying an HMAC needs the secret itself, so it cannot be hashed one way. Never returned or logged.
    webhook_secret TEXT,
    cron TEXT,
    timezone TEXT,
    catch_up TEXT,
    concurrency TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX daemons_workspace_name ON daemons (workspace_id, name);

-- The scheduler's own table: one row per schedule of any owner (a daemon today, an agent's cron job later). The owner
-- keeps its definition; the scheduler keeps when it is next due. next_run_at is null while the schedule is paused.
CREATE TABLE schedules (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    cron TEXT NOT NULL,
    timezone TEXT NOT NULL,
    catch_up TEXT NOT NULL,
    next_run_at BIGINT
);

CREATE INDEX schedules_due ON schedules (next_run_at) WHERE next_run_at IS NOT NULL;

-- One row per fired run. The key is what makes a run fire once: it is inserted in the transaction that starts the run.
CREATE TABLE schedule_runs (
    schedule_id TEXT NOT NULL,
    scheduled_for BIGINT NOT NULL,
    fired_at BIGINT NOT NULL,
    catch_up INTEGER NOT NULL,
    result TEXT,
    PRIMARY KEY (schedule_id, scheduled_for)
);

CREATE INDEX schedule_runs_fired ON schedule_runs (fired_at);

ALTER TABLE sessions ADD COLUMN daemon_id TEXT;
ALTER TABLE sessions ADD COLUMN daemon TEXT;
ALTER TABLE sessions ADD COLUMN trigger_type TEXT;
ALTER TABLE sessions ADD COLUMN scheduled_for BIGINT;
ALTER TABLE sessions ADD COLUMN catch_up INTEGER NOT NULL DEFAULT 0;
-- A daemon session with concurrency 'queue' waits here (held = 1) until the daemon's earlier session has ended.
ALTER TABLE sessions ADD COLUMN held INTEGER NOT NULL DEFAULT 0;

CREATE INDEX sessions_daemon ON sessions (daemon_id, id) WHERE daemon_id IS NOT NULL;
CREATE INDEX sessions_held ON sessions (daemon_id, id) WHERE held = 1;
CREATE INDEX sessions_workspace_created ON sessions (workspace_id, created_at);
