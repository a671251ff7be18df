-- What a session with network moved and was refused (bytes in and out, refused attempts and each refused destination
-- with its rule), as JSON, written when it ends. Null for sessions without network and for those still running.
ALTER TABLE sessions ADD COLUMN egress TEXT;
