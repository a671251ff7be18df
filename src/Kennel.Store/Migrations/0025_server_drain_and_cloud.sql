-- delete-server drains its worker first: from draining_since on the worker is offered no new sessions, while those it
-- runs get a grace period to finish. Null for every worker that is not being removed.
ALTER TABLE workers ADD COLUMN draining_since BIGINT;

-- A server add-server-ec2 launched: its region, instance, security group and key pair (JSON), so delete-server and a
-- failed launch can clean up what Kennel created. Null for a machine added over SSH.
ALTER TABLE servers ADD COLUMN cloud TEXT;
