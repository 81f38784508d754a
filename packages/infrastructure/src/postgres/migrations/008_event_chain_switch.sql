-- The hash chain can be switched off for a connection (`SET pos_auth.event_chain = off`, which the
-- service does only with EVENT_LOG_INTEGRITY=off): so that `pnpm bench` can measure what the chain
-- costs, in the same run, against the same code. An unchained event has an empty hash, which
-- `audit verify` reports; nothing else changes. Same signature: the function is replaced in place.

CREATE OR REPLACE FUNCTION pos_auth_append(
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
  v_chain boolean := coalesce(current_setting('pos_auth.event_chain', true), 'on') <> 'off';
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
    v_hash := CASE WHEN v_chain
                   THEN pos_auth_event_hash(v_hash, event_id, p_stream_id, stream_position, v_event->>'type',
                                            v_event->'data', v_event->'metadata', v_at)
                   ELSE '\x'::bytea END;
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
