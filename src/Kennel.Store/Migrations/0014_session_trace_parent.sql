-- The W3C traceparent of the request that created a session, when tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT), so the
-- spans of its claim and of its worker's report join the same trace. Null when tracing was off, and for sessions
-- created before this column.
ALTER TABLE sessions ADD COLUMN trace_parent TEXT;
