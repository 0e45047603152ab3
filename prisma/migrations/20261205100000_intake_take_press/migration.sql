-- A button press taken in one statement (src/api/services/slack-actions.ts), so that a press under
-- a storm waits for one busy event-loop turn and one busy server, not five (begin, lock, read,
-- append, commit).
--
-- Under the alert's journal lock (as every writer of a workflow's entries: src/intake/journal.ts),
-- reads the alert the press names and, when the press may act (it came from the alert's team
-- channel or the channel of its message, and the alert has not ended), appends the press to the
-- intake journal and wakes the dispatchers (the notification is delivered on commit). Returns the
-- alert as read, with the journal entry's id when the press was taken; no row: no such alert.
CREATE FUNCTION "intake_take_press"(
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
    INSERT INTO intake_journal (workflow_id, partition, kind, payload)
      VALUES (p_workflow_id, p_partition, 'action', p_entry)
      RETURNING id INTO v_entry_id;
    PERFORM pg_notify(p_notify_channel, p_partition::TEXT);
  END IF;
  RETURN QUERY SELECT v_alert.id, v_alert.state, v_alert.ended_by, v_alert.ended_at, v_alert.team_channel,
    v_alert.message_channel, v_entry_id;
END;
$$;
