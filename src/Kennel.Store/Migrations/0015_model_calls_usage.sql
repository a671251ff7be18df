-- Reads of the usage ledger for the agent endpoint (usage_cost, sessions_usage, status) and /v1/usage.
--
-- Sums over a time range read only this index, never the table: it holds every column they group by or add up, in
-- (workspace, time) order, so a month of a busy workspace is one sequential range of the index. It replaces
-- model_calls_workspace_at, which is its prefix.
CREATE INDEX model_calls_usage ON model_calls (workspace_id, at, agent, provider, model, conversation_id, input_tokens, output_tokens,
    cache_read_tokens, cache_write_tokens, cost_nano_usd);
DROP INDEX model_calls_workspace_at;

-- status reads each provider's last call (its outcome and time), so it holds across replicas: one index row per provider.
CREATE INDEX model_calls_provider ON model_calls (workspace_id, provider, at);
