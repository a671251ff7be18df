-- Agents' cron jobs and the history of their runs. A job's schedule lives in the scheduler's own table (schedules, kind
-- 'cron', same id), which fires each due run exactly once; a run here records what that firing did.

CREATE TABLE cron_jobs (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    description TEXT,
    agent TEXT,
    enabled INTEGER NOT NULL,
    -- The schedule, payload and delivery as JSON, as the API shows them (never with the webhook secret).
    schedule TEXT NOT NULL,
    payload TEXT NOT NULL,
    delivery TEXT NOT NULL,
    -- Encrypted at rest (signing needs the secret itself, so it cannot be hashed one way). Never returned after creation.
    webhook_secret TEXT,
    timeout_ms BIGINT NOT NULL,
    token_budget BIGINT,
    overlap TEXT NOT NULL,
    delete_after_run INTEGER NOT NULL DEFAULT 0,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    backoff_until BIGINT,
    last_run_at BIGINT,
    last_status TEXT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX cron_jobs_name ON cron_jobs (workspace_id, name);

CREATE TABLE cron_runs (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    job_id TEXT NOT NULL,
    job_name TEXT NOT NULL,
    -- schedule | catch_up | manual
    trigger_type TEXT NOT NULL,
    scheduled_for BIGINT,
    -- queued | running | succeeded | failed | timed_out | budget_exceeded | cancelled | skipped
    status TEXT NOT NULL,
    -- none | webhook | channel: the job's delivery when the run fired (its state is in webhook_outbox)
    delivery TEXT NOT NULL,
    error_code TEXT,
    error_message TEXT,
    conversation_id TEXT,
    run_id TEXT,
    session_id TEXT,
    input_tokens BIGINT,
    output_tokens BIGINT,
    cache_read_tokens BIGINT,
    cache_write_tokens BIGINT,
    cost_nano_usd BIGINT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    ended_at BIGINT
);

CREATE INDEX cron_runs_workspace ON cron_runs (workspace_id, id);
CREATE INDEX cron_runs_job ON cron_runs (workspace_id, job_id, id);
-- A job's runs still going or waiting their turn.
CREATE INDEX cron_runs_live ON cron_runs (job_id, id) WHERE status IN ('queued', 'running');
-- What the tracker watches: the runs going, to record each one's end.
CREATE INDEX cron_runs_running ON cron_runs (id) WHERE status = 'running';
CREATE INDEX cron_runs_ended ON cron_runs (ended_at);
