-- Each workspace's config document (agents, providers, models; channels, skills and cron defaults later), kept as one
-- row per accepted write. The current document is the newest version; nothing is ever updated in place, so every
-- version stays readable and a rollback is a new version holding an old document. The document never holds a secret:
-- write-only fields are stored in `secrets` under a `config:` name and appear here as {"secretSet": true}.
CREATE TABLE workspace_config_versions (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    version BIGINT NOT NULL,
    document TEXT NOT NULL,
    -- SHA-256 of the document text: the baseHash a writer names to say which document it changed.
    hash TEXT NOT NULL,
    -- Who wrote it: the user's or API key's name, as the audit shows it.
    author TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- What changed, as a JSON array of paths (and "rollback to N" for a rollback).
    changes TEXT NOT NULL,
    PRIMARY KEY (workspace_id, version)
);
