-- Skills installed in workspaces, and the pins that refuse a tampered reinstall.

CREATE TABLE skills (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    -- The name from SKILL.md, which is also the registry's: the folder /skills/{name} in a sandbox.
    name TEXT NOT NULL,
    -- The registry's name in the workspace config when it was installed, and its index URL.
    registry TEXT NOT NULL,
    registry_url TEXT NOT NULL,
    version TEXT NOT NULL,
    -- Lower-case hex SHA-256 of the archive (the gzipped tar), checked against the registry's index.
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    publisher TEXT,
    -- clean | warn (a blocked archive is never stored); reasons is the inspector's findings as a JSON array.
    verdict TEXT NOT NULL,
    reasons TEXT NOT NULL,
    description TEXT NOT NULL,
    -- JSON {"programs": [...], "env": [...]} from SKILL.md.
    requires TEXT NOT NULL,
    -- JSON array of the archive's entries {path, size, mode, kind}.
    files TEXT NOT NULL,
    -- The verified archive itself, base64: what workers mount read-only under /skills/{name}.
    archive TEXT NOT NULL,
    installed_by TEXT,
    installed_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

CREATE INDEX skills_sha256 ON skills (sha256);

-- The first hash seen for a version of a skill from a registry URL. Kept after an uninstall, so a registry that later
-- serves other bytes under the same version is refused as tampering.
CREATE TABLE skill_pins (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    registry_url TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    pinned_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, registry_url, name, version)
);
