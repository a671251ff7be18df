-- A channel's last registration with its platform (Telegram's setWebhook): when it was tried, the inbound URL it named,
-- and the platform's error, null when the platform accepted it. channels_status shows it; a failed one makes the
-- channel's health failing until a registration succeeds.
ALTER TABLE channel_stats ADD COLUMN registration_at BIGINT;
ALTER TABLE channel_stats ADD COLUMN registration_url TEXT;
ALTER TABLE channel_stats ADD COLUMN registration_error TEXT;
