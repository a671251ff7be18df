-- delete-server drains its worker first: from draining_since on the worker is offered no new sessions, while those it
-- runs get a grace period to finish. Null for every worker that is not being removed.
ALTER TABLE workers ADD COLUMN draining_since BIGINT;
