-- The agent endpoint's status tool reads each provider's last call (its outcome and time) from the ledger, so it holds
-- across replicas; this index makes that one row read per provider, however many calls the workspace has made.
CREATE INDEX model_calls_provider ON model_calls (workspace_id, provider, at);
