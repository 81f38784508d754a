-- Event ids, subjects, a hash chain per stream, snapshots, per-person keys, and an append that is
-- one statement (DESIGN.md, "Event store"). Runs on PostgreSQL 13+ (sha256, gen_random_uuid).

-- Keys the service keeps outside the log: the HMAC keys that pseudonymize typed user names and
-- IPs, and the key that derives a refresh's child tokens from its parent. Created at first start.
CREATE TABLE service_keys (
  name text PRIMARY KEY,
  key bytea NOT NULL CHECK (octet_length(key) >= 32),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One key per person whose personal data the log holds (crypto-shredding). Erasing the person
-- sets the key to NULL: the row stays as a tombstone, so that no new key is ever made for them.
CREATE TABLE subject_keys (
  subject_id text PRIMARY KEY,
  key bytea CHECK (key IS NULL OR octet_length(key) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  erased_at timestamptz,
  CHECK ((key IS NULL) = (erased_at IS NOT NULL))
);

ALTER TABLE events ADD COLUMN event_id uuid;
ALTER TABLE events ADD COLUMN subject_id text;
ALTER TABLE events ADD COLUMN hash bytea;

ALTER TABLE streams ADD COLUMN last_hash bytea;
-- The aggregate's state as of a version ({"schema", "version", "state"}), written by the append.
ALTER TABLE streams ADD COLUMN snapshot jsonb;

CREATE INDEX claims_stream_idx ON claims (stream_id);

-- What each event's hash covers: the previous event's hash in its stream, and everything of the
-- event itself. jsonb's text form is canonical, so the same content always gives the same bytes;
-- the instant is whole microseconds since the epoch, the same on every PostgreSQL version.
CREATE FUNCTION pos_auth_event_hash(
  prev bytea, event_id uuid, stream_id text, stream_position integer, type text, data jsonb,
  metadata jsonb, recorded_at timestamptz
) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT sha256(coalesce(prev, '\x'::bytea) || convert_to(
    json_build_array(event_id, stream_id, stream_position, type, data, metadata,
                     (extract(epoch FROM recorded_at) * 1000000)::bigint)::text, 'UTF8'))
$$;

-- The events of before this migration: what was typed at failed logins goes (it may be a password,
-- and must not stay in an append-only table), then ids and the hash chain are filled in. The
-- append-only trigger is lifted for this one rewrite, inside the migration's transaction.
ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete;
UPDATE events SET data = data - 'attemptedUserName' WHERE type = 'LoginFailed' AND data ? 'attemptedUserName';
UPDATE events SET event_id = gen_random_uuid() WHERE event_id IS NULL;
UPDATE events SET subject_id = data->>'userId' WHERE subject_id IS NULL AND data ? 'userId';
WITH RECURSIVE chain AS (
  SELECT e.global_position, e.stream_id, e.stream_position,
         pos_auth_event_hash(NULL, e.event_id, e.stream_id, e.stream_position, e.type, e.data, e.metadata, e.recorded_at) AS hash
  FROM events e WHERE e.stream_position = 1
  UNION ALL
  SELECT e.global_position, e.stream_id, e.stream_position,
         pos_auth_event_hash(c.hash, e.event_id, e.stream_id, e.stream_position, e.type, e.data, e.metadata, e.recorded_at)
  FROM chain c JOIN events e ON e.stream_id = c.stream_id AND e.stream_position = c.stream_position + 1
)
UPDATE events e SET hash = chain.hash FROM chain WHERE e.global_position = chain.global_position;
ALTER TABLE events ENABLE TRIGGER events_no_update_or_delete;
UPDATE streams s SET last_hash = e.hash
FROM events e WHERE e.stream_id = s.stream_id AND e.stream_position = s.version;

ALTER TABLE events ALTER COLUMN event_id SET NOT NULL;
ALTER TABLE events ALTER COLUMN hash SET NOT NULL;
ALTER TABLE events ADD CONSTRAINT events_event_id_unique UNIQUE (event_id);

-- The append: checks the expected version (-1 any, 0 no stream, n exactly n events), writes the
-- events with their hash chain, the stream's version, last hash and snapshot, gives up
-- `release_kinds` claims and takes the new ones, all under the stream row's lock. A lost race
-- raises PA001 (detail: the stream), a taken claim PA002 (detail: its kind), so that the whole
-- statement calling it, projections included, leaves nothing behind.
-- p_events: [{"id", "type", "data", "metadata", "subject"}], already encoded by the store.
CREATE FUNCTION pos_auth_append(
  p_stream_id text, p_expected integer, p_events jsonb, p_snapshot jsonb,
  p_release_kinds text[], p_claim_kinds text[], p_claim_values text[]
) RETURNS TABLE (event_id uuid, stream_position integer, global_position bigint, recorded_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  v_version integer;
  v_hash bytea;
  v_event jsonb;
  v_count integer := 0;
  v_at timestamptz := now();
  v_taken text;
BEGIN
  IF p_expected = 0 THEN
    INSERT INTO streams AS s (stream_id, version) VALUES (p_stream_id, 0) ON CONFLICT (stream_id) DO NOTHING;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'wrong expected version' USING ERRCODE = 'PA001', DETAIL = p_stream_id;
    END IF;
    v_version := 0;
  ELSE
    IF p_expected = -1 THEN
      INSERT INTO streams AS s (stream_id, version) VALUES (p_stream_id, 0) ON CONFLICT (stream_id) DO NOTHING;
    END IF;
    SELECT s.version, s.last_hash INTO v_version, v_hash FROM streams s WHERE s.stream_id = p_stream_id FOR UPDATE;
    IF NOT FOUND OR (p_expected > 0 AND v_version <> p_expected) THEN
      RAISE EXCEPTION 'wrong expected version' USING ERRCODE = 'PA001', DETAIL = p_stream_id;
    END IF;
  END IF;

  FOR v_event IN SELECT value FROM jsonb_array_elements(p_events) LOOP
    v_count := v_count + 1;
    event_id := (v_event->>'id')::uuid;
    stream_position := v_version + v_count;
    recorded_at := v_at;
    v_hash := pos_auth_event_hash(v_hash, event_id, p_stream_id, stream_position, v_event->>'type',
                                  v_event->'data', v_event->'metadata', v_at);
    INSERT INTO events AS e (event_id, stream_id, stream_position, type, data, metadata, recorded_at, subject_id, hash)
    VALUES (event_id, p_stream_id, stream_position, v_event->>'type', v_event->'data', v_event->'metadata', v_at,
            v_event->>'subject', v_hash)
    RETURNING e.global_position INTO global_position;
    RETURN NEXT;
  END LOOP;

  UPDATE streams s SET
    version = v_version + v_count,
    last_hash = v_hash,
    snapshot = CASE WHEN p_snapshot IS NULL THEN NULL
                    ELSE p_snapshot || jsonb_build_object('version', v_version + v_count) END
  WHERE s.stream_id = p_stream_id;

  IF p_release_kinds IS NOT NULL THEN
    DELETE FROM claims c WHERE c.stream_id = p_stream_id AND c.kind = ANY (p_release_kinds);
  END IF;
  IF p_claim_kinds IS NOT NULL THEN
    -- In (kind, value) order, so that two appends claiming the same values cannot deadlock; a
    -- concurrent claimer of a value is waited for, and its value skipped if it commits.
    WITH wanted AS (
      SELECT w.kind, w.value, w.ord FROM unnest(p_claim_kinds, p_claim_values) WITH ORDINALITY AS w(kind, value, ord)
    ), won AS (
      INSERT INTO claims AS c (kind, value, stream_id)
      SELECT wanted.kind, wanted.value, p_stream_id FROM wanted ORDER BY wanted.kind, wanted.value
      ON CONFLICT (kind, value) DO NOTHING
      RETURNING c.kind, c.value
    )
    SELECT wanted.kind INTO v_taken FROM wanted
    WHERE NOT EXISTS (SELECT 1 FROM won WHERE won.kind = wanted.kind AND won.value = wanted.value)
    ORDER BY wanted.ord LIMIT 1;
    IF v_taken IS NOT NULL THEN
      RAISE EXCEPTION 'claim taken' USING ERRCODE = 'PA002', DETAIL = v_taken;
    END IF;
  END IF;
END;
$$;

-- Projections. They are rebuilt from the log (the service does it at start when
-- projection_versions says their code changed), so this migration only reshapes them.
ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false;

ALTER TABLE refresh_tokens ADD COLUMN issued_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE refresh_tokens ADD COLUMN expires_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE access_tokens ADD COLUMN issued_at timestamptz NOT NULL DEFAULT now();

CREATE TABLE sessions (
  session_id text PRIMARY KEY,
  user_id text NOT NULL,
  client_id text NOT NULL,
  scope text,
  status text NOT NULL CHECK (status IN ('active', 'revoked')),
  created_at timestamptz NOT NULL,
  last_refreshed_at timestamptz,
  -- The current refresh token's expiry (idle limit) and the session's absolute end.
  refresh_expires_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  ip text,
  user_agent text,
  revoked_at timestamptz,
  revoked_reason text
);

CREATE INDEX sessions_user_active_idx ON sessions (user_id) WHERE status = 'active';

-- Which version of each projection's code filled its tables; a mismatch at start means: rebuild.
CREATE TABLE projection_versions (
  name text PRIMARY KEY,
  version integer NOT NULL
);
