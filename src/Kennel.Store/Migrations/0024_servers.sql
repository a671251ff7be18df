-- Machines Kennel reaches over SSH and bootstraps into workers. A server becomes a worker of the shared fleet, which runs
-- every workspace's sessions, so servers belong to the installation, as workers do: only its admins see or change them.

-- The host key Kennel trusts for each address and port: remembered on first use (a test or an add), or pinned by the
-- caller. A later connection that is presented another key is refused (host_key_mismatch).
CREATE TABLE server_host_keys (
    address TEXT NOT NULL,
    port INTEGER NOT NULL,
    algorithm TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    trusted_at BIGINT NOT NULL,
    PRIMARY KEY (address, port)
);

CREATE TABLE servers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    port INTEGER NOT NULL,
    username TEXT NOT NULL,
    -- password | private_key
    auth_method TEXT NOT NULL,
    -- The credential, only when the caller asked Kennel to keep it: encrypted under the key-encryption key with this row's
    -- id as associated data. Null once the bootstrap is over otherwise. Never returned.
    credential TEXT,
    -- provisioning | connecting | bootstrapping | enrolling | ready | failed | draining | deleting
    status TEXT NOT NULL,
    error_code TEXT,
    error_message TEXT,
    host_key TEXT,
    -- The machine as the last probe saw it (JSON).
    system TEXT,
    -- The one-time enrollment token written to the machine, and the worker it became.
    enrollment_token_id TEXT,
    worker_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX servers_name ON servers (name);
CREATE UNIQUE INDEX servers_endpoint ON servers (address, port);

-- Each step of a server's bootstrap and removal, in order: what list-servers' last step and the log show.
CREATE TABLE server_steps (
    server_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at BIGINT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (server_id, seq)
);
