-- Limits of one run, set by whoever queued it (a cron job): a timeout that replaces the installation's turn timeout
-- (KENNEL_AGENT_TURN_TIMEOUT_SECONDS) for this run, and a budget of tokens (input, output, cache read and cache write
-- summed) past which the turn stops asking the model for tools. Null means the installation's timeout and no budget.
ALTER TABLE runs ADD COLUMN timeout_ms BIGINT;
ALTER TABLE runs ADD COLUMN token_budget BIGINT;
