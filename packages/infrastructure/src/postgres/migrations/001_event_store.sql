-- The event log and what is written beside it in the append transaction.
-- Names are unqualified: the connection's search_path decides the schema.
-- Runs unchanged on PostgreSQL 13+ (xid8, pg_current_xact_id) and on PGlite.

-- The log. transaction_id lets readers of the whole log order by commit-safe position: identity
-- values are handed out at insert time, not at commit, so a reader ordering by global_position
-- alone could pass a position whose transaction commits later, and skip it forever.
CREATE TABLE events (
  global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stream_id text NOT NULL,
  stream_position integer NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  CONSTRAINT events_stream_position_unique UNIQUE (stream_id, stream_position)
);

CREATE INDEX events_transaction_position_idx ON events (transaction_id, global_position);
CREATE INDEX events_type_idx ON events (type);

-- The log is the audit trail: the database itself refuses to rewrite it.
CREATE FUNCTION events_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the event log is append-only: % on events is not allowed', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER events_no_update_or_delete
  BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_are_append_only();

CREATE TRIGGER events_no_truncate
  BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

-- One row per stream, holding its version (its number of events). Appends lock this row, which
-- serializes writers of one stream and makes the expected-version check race-free.
CREATE TABLE streams (
  stream_id text PRIMARY KEY,
  version integer NOT NULL CHECK (version >= 0)
);

-- Values unique across streams (user names, emails). The primary key decides races.
CREATE TABLE claims (
  kind text NOT NULL,
  value text NOT NULL,
  stream_id text NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, value)
);

-- Secrets: written in the transaction of the event that sets them, never in the log, and not
-- projections (the log cannot rebuild them).
CREATE TABLE user_credentials (
  user_id text PRIMARY KEY,
  password_hash text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE client_credentials (
  client_id text PRIMARY KEY,
  secret_digest text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Inline projections: updated in the append transaction, rebuildable from the log.
CREATE TABLE users (
  user_id text PRIMARY KEY,
  user_name text NOT NULL,
  -- NFKC + lower-cased user name: what logins look up.
  user_name_key text NOT NULL UNIQUE,
  email text,
  name text,
  role text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Every refresh-token digest ever issued, current or rotated away, with its session: a rotated
-- token still leads to its session, which then decides the token is reused.
CREATE TABLE refresh_tokens (
  digest text PRIMARY KEY,
  session_id text NOT NULL
);

CREATE TABLE access_tokens (
  digest text PRIMARY KEY,
  session_id text NOT NULL,
  user_id text NOT NULL,
  client_id text NOT NULL,
  expires_at timestamptz NOT NULL
);

CREATE INDEX access_tokens_session_idx ON access_tokens (session_id);

CREATE TABLE clients (
  client_id text PRIMARY KEY,
  registered_at timestamptz NOT NULL
);
