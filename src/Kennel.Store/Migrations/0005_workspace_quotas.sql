-- An installation admin's limits for one workspace, over the installation's defaults (KENNEL_WORKSPACE_MAX_*). A NULL
-- column means "the installation default"; a row with every column NULL is the same as no row.
CREATE TABLE workspace_quotas (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces (id),
    -- Sessions claimed by a worker (starting or running) at once.
    max_running_sessions INTEGER,
    -- vCPUs of those sessions, summed.
    max_vcpus INTEGER,
    -- Sessions waiting in the queue; a create past it is refused with 429 queue_full.
    max_queued_sessions INTEGER,
    updated_at BIGINT NOT NULL
);

-- The claim counts what each workspace has claimed, fleet-wide, to share capacity fairly.
CREATE INDEX sessions_claimed ON sessions (workspace_id) WHERE worker_id IS NOT NULL AND status IN ('pending', 'running');

-- When a worker last took a session of each workspace. Among workspaces with as many sessions claimed, the one served
-- least recently goes next, so a workspace whose sessions keep finishing cannot take every free slot in turn.
CREATE TABLE workspace_turns (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces (id),
    last_claimed_at BIGINT NOT NULL
);
