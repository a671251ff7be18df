-- Daily roll-ups of the usage ledger: one row per workspace, UTC day, agent, provider and model, with the calls and the
-- sums of their tokens and cost. The ledger writes a call's roll-up in the transaction that writes its model_calls row
-- (an upsert that adds to the day's row), so the two never disagree. usage_cost and /v1/usage read the roll-ups for the
-- whole days of a range and model_calls only for the part-days at its edges.
CREATE TABLE usage_daily (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    -- The UTC day number: model_calls.at / 86,400,000.
    day BIGINT NOT NULL,
    agent TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    calls BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cache_read_tokens BIGINT NOT NULL,
    cache_write_tokens BIGINT NOT NULL,
    cost_nano_usd BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, day, agent, provider, model)
);

-- The calls recorded before this migration.
INSERT INTO usage_daily (workspace_id, day, agent, provider, model, calls, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
    cost_nano_usd)
SELECT workspace_id, at / 86400000, agent, provider, model, COUNT(*), CAST(SUM(input_tokens) AS BIGINT), CAST(SUM(output_tokens) AS BIGINT),
    CAST(SUM(cache_read_tokens) AS BIGINT), CAST(SUM(cache_write_tokens) AS BIGINT), CAST(SUM(cost_nano_usd) AS BIGINT)
FROM model_calls
GROUP BY workspace_id, at / 86400000, agent, provider, model;
