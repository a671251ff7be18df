-- The usage ledger: one row per model call an agent made, with its tokens and its cost at that call's prices. Rows are
-- never updated or deleted with the conversation or run they came from (neither is a foreign key), so deleting a
-- conversation keeps its cost visible. Cost is in nano-USD (1e-9 USD) so sums stay exact integers.
CREATE TABLE model_calls (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    -- When the call ended (Unix ms).
    at BIGINT NOT NULL,
    agent TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    conversation_id TEXT,
    run_id TEXT,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cache_read_tokens BIGINT NOT NULL,
    cache_write_tokens BIGINT NOT NULL,
    cost_nano_usd BIGINT NOT NULL,
    -- ok | error | cancelled: a failed or cut call still costs what the provider reported.
    outcome TEXT NOT NULL,
    duration_ms BIGINT NOT NULL
);

CREATE INDEX model_calls_workspace_at ON model_calls (workspace_id, at);
CREATE INDEX model_calls_conversation ON model_calls (workspace_id, conversation_id, at);
