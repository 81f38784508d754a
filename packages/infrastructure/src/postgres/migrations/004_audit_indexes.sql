-- Indexes for the audit queries (API.md, "Audit"). Results come in commit-safe order,
-- (transaction_id, global_position), a page at a time after a cursor; so each filter on a key
-- (a user, a stream, an IP) has an index that holds its events in that order, and a page is a
-- range scan that stops at the page's size. Each also carries type and recorded_at, so that a
-- filter by type or time on top of it is checked inside the index, without reading the rows.
-- Time ranges without such a key are answered from the range itself (the time index), because
-- recorded_at follows the log's order closely and a scan in commit order would first walk past
-- everything before the range.
--
-- IF NOT EXISTS: on a large log, an operator may build these beforehand with CREATE INDEX
-- CONCURRENTLY under the same names, and this migration then does not lock the log to build them.

-- user_id, and the account part of user_name.
CREATE INDEX IF NOT EXISTS events_subject_order_idx ON events (subject_id, transaction_id, global_position)
  INCLUDE (type, recorded_at) WHERE subject_id IS NOT NULL;

-- session_id, and the failed logins of a typed user name (its login-attempts stream).
CREATE INDEX IF NOT EXISTS events_stream_order_idx ON events (stream_id, transaction_id, global_position)
  INCLUDE (type, recorded_at);

-- ip: a keyed digest whatever became of the IP itself (sealed, erased, or of nobody). 16 of its 64
-- hex digits keep the index small (the reader drops the rare row whose whole digest differs). Not
-- partial: the planner guesses a jsonb `?` condition so selective that it would fetch every row
-- of a busy IP and sort them instead of reading the first page in order.
CREATE INDEX IF NOT EXISTS events_ip_order_idx ON events ((left(metadata->>'ipDigest', 16)), transaction_id, global_position)
  INCLUDE (type, recorded_at);

-- client_id: few values, but a rarely used client must not cost a walk over the whole log.
CREATE INDEX IF NOT EXISTS events_client_order_idx ON events ((metadata->>'clientId'), transaction_id, global_position)
  INCLUDE (type, recorded_at);

-- request_id: a handful of events each; a hash index is the smallest that finds them.
CREATE INDEX IF NOT EXISTS events_request_idx ON events USING hash ((metadata->>'requestId'));

-- type with or without a time range: the range of one type, read from the index alone.
CREATE INDEX IF NOT EXISTS events_type_time_idx ON events (type, recorded_at) INCLUDE (transaction_id, global_position);
DROP INDEX IF EXISTS events_type_idx;

-- A time range alone: the log is appended in time order, so a block-range index is tiny and exact enough.
CREATE INDEX IF NOT EXISTS events_recorded_at_brin ON events USING brin (recorded_at);
