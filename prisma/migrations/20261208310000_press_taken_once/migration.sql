-- A press is journalled once, however many times it is delivered (issue 25).
CREATE INDEX "intake_journal_press_idx" ON "intake_journal" ("workflow_id", (("payload"->'signal'->>'pressId')))
  WHERE "kind" = 'action';

CREATE OR REPLACE FUNCTION "intake_take_press"(
    p_workflow_id TEXT, p_partition INTEGER, p_press_channel TEXT, p_entry JSONB, p_notify_channel TEXT)
  RETURNS TABLE (
    alert_id UUID, state "AlertState", ended_by TEXT, ended_at TIMESTAMPTZ, team_channel TEXT,
    message_channel TEXT, entry_id BIGINT)
  LANGUAGE plpgsql AS $$
DECLARE
  v_alert RECORD;
  v_entry_id BIGINT;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_workflow_id, 7));
  SELECT a.id, a.state, a.ended_by, a.ended_at, t.slack_channel_id AS team_channel,
         a.slack_channel_id AS message_channel
    INTO v_alert
    FROM alerts a JOIN teams t ON t.id = a.team_id
    WHERE a.workflow_id = p_workflow_id
    ORDER BY a.first_seen_at DESC LIMIT 1;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF p_press_channel IN (v_alert.team_channel, v_alert.message_channel)
     AND v_alert.state NOT IN ('closed', 'resolved') THEN
    -- The same press delivered twice (a proxy's or a client's retry, the same action_ts) is one
    -- entry: a second one made the paging step stand back for a press the workflow then dropped
    -- as a redelivery, and a Pass happened zero times. Under the alert's lock, so check and insert
    -- are one step.
    SELECT j.id INTO v_entry_id FROM intake_journal j
      WHERE j.workflow_id = p_workflow_id AND j.kind = 'action'
        AND j.payload->'signal'->>'pressId' = p_entry->'signal'->>'pressId'
      ORDER BY j.id DESC LIMIT 1;
    IF v_entry_id IS NULL THEN
      INSERT INTO intake_journal (workflow_id, partition, kind, payload)
        VALUES (p_workflow_id, p_partition, 'action', p_entry)
        RETURNING id INTO v_entry_id;
    END IF;
    IF p_notify_channel IS NOT NULL THEN
      PERFORM pg_notify(p_notify_channel, p_partition::TEXT);
    END IF;
  END IF;
  RETURN QUERY SELECT v_alert.id, v_alert.state, v_alert.ended_by, v_alert.ended_at, v_alert.team_channel,
    v_alert.message_channel, v_entry_id;
END;
$$;
