-- Snapshots that users build: one row per build, named by its id (snp_…). A ready build has the SHA-256 digest of its
-- image (a deterministic tar of the root filesystem, kept in the snapshot image directory under that digest). Snapshots
-- belong to a workspace; the built-in test-minimal is no row at all.
CREATE TABLE snapshots (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    -- The repository name a build is filed under (python), which tags attach to.
    name TEXT NOT NULL,
    -- building | ready | failed
    status TEXT NOT NULL,
    -- Lower-case hex SHA-256 of the image, and its size in bytes: set only with status ready.
    digest TEXT,
    size BIGINT,
    -- The base in one line (debootstrap:bookworm/minbase, snapshot:python@sha256:…, oci:…), for lists.
    base TEXT NOT NULL,
    -- The recipe as validated, in canonical JSON: what a resumed build runs again.
    recipe TEXT NOT NULL,
    -- The tags the build moves once it is ready, as a JSON array.
    tags TEXT NOT NULL,
    error_code TEXT,
    error_message TEXT,
    -- The build's log, appended as it runs (capped).
    log TEXT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    -- The control plane running the build, and until when it holds it. An expired lease is taken over, and the build
    -- resumes from its cached steps; attempts counts takeovers, so a build that kills its builder ends failed.
    lease_owner TEXT,
    lease_expires_at BIGINT,
    attempts INTEGER NOT NULL
);

CREATE INDEX snapshots_workspace_name ON snapshots (workspace_id, name, id);
CREATE INDEX snapshots_status ON snapshots (status, lease_expires_at);
CREATE INDEX snapshots_digest ON snapshots (digest);

-- Where each tag of a name points now.
CREATE TABLE snapshot_tags (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    tag TEXT NOT NULL,
    snapshot_id TEXT NOT NULL REFERENCES snapshots (id),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name, tag)
);

-- Every move of a tag, newest last: what a rollback reads, and the history a person can audit.
CREATE TABLE snapshot_tag_events (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    tag TEXT NOT NULL,
    -- Null when the tag was new.
    previous_snapshot_id TEXT,
    snapshot_id TEXT NOT NULL,
    -- build | tag | rollback
    reason TEXT NOT NULL,
    actor TEXT,
    at BIGINT NOT NULL
);

CREATE INDEX snapshot_tag_events_tag ON snapshot_tag_events (workspace_id, name, tag, id);

-- The step cache: the image after a build step, keyed by the SHA-256 of the step's inputs (the key of the step before,
-- and the step itself). Per workspace, so one workspace's run steps can never feed another's build.
CREATE TABLE snapshot_steps (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    step_key TEXT NOT NULL,
    digest TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, step_key)
);

-- The digest a session ran on, recorded when a worker claims it: a tag can move later, the session's record does not.
ALTER TABLE sessions ADD COLUMN snapshot_digest TEXT;

-- The digests of the built snapshots a worker holds unpacked (a JSON array), from its latest poll: for list-snapshots,
-- and for the dispatcher, which prefers a worker that already holds a session's snapshot.
ALTER TABLE workers ADD COLUMN snapshots TEXT;
