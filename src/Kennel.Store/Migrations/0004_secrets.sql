-- Workspace secrets: credentials that sessions and daemons reference by name and that no API returns. The value is
-- kept encrypted (AES-256-GCM, enc:v1:…) under the installation's key-encryption key, which lives outside the store,
-- with the workspace id and the name as associated data, so a value copied into another row does not decrypt.

CREATE TABLE secrets (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    encrypted_value TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
);
