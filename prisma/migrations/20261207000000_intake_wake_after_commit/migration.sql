-- The intake functions no longer have to notify the dispatchers inside the report's transaction
-- (src/intake/wake.ts says why): given no channel (NULL) they write and commit only, and the
-- gateway wakes the dispatchers once the report has committed. Given a channel, as gateways of the
-- release before give it during a rolling upgrade, they notify on commit as before. Nothing else
-- changes in them.

CREATE OR REPLACE FUNCTION "intake_take_firings"(
    p_workflow_id TEXT,
    p_partition SMALLINT,
    p_team_id UUID,
    p_fingerprint TEXT,
    p_reports JSONB,
    p_channel TEXT
) RETURNS TABLE ("outcome" TEXT, "alert_id" UUID)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_live UUID;
    v_occurrences INTEGER;
    v_counted INTEGER := 0;
    v_appended BOOLEAN := false;
    v_last_seen TIMESTAMPTZ;
    v_run_source TEXT;
    v_run_at TIMESTAMPTZ;
    v_report JSONB;
    v_content JSONB;
    v_received TIMESTAMPTZ;
    v_source TEXT;
    v_delivery TEXT;
    v_firing TEXT;
    v_alert UUID;
    v_is_live BOOLEAN;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_workflow_id, 7));
    -- Locked until commit: a Close or resolution cannot end it half-way through these reports.
    SELECT a."id", a."occurrences" INTO v_live, v_occurrences
    FROM "alerts" a WHERE a."team_id" = p_team_id AND a."open_fingerprint" = p_fingerprint FOR UPDATE;

    FOR v_report IN SELECT r.value FROM jsonb_array_elements(p_reports) WITH ORDINALITY AS r(value, position) ORDER BY r.position LOOP
        v_received := (v_report->>'receivedAt')::TIMESTAMPTZ;
        v_source := v_report->>'source';
        v_delivery := v_report->>'deliveryKey';
        v_firing := v_report->>'firingKey';

        IF v_delivery IS NOT NULL THEN
            SELECT d."alert_id" INTO v_alert FROM "deliveries" d WHERE d."id" = v_delivery;
            IF FOUND THEN
                outcome := 'redelivered'; alert_id := v_alert; RETURN NEXT;
                CONTINUE;
            END IF;
        END IF;

        -- The alert a firing already seen was counted on, if it was: live, or ended by a person.
        v_alert := NULL;
        IF v_firing IS NOT NULL THEN
            SELECT f."alert_id", a."open_fingerprint" IS NOT NULL INTO v_alert, v_is_live
            FROM "alert_firings" f JOIN "alerts" a ON a."id" = f."alert_id"
            WHERE f."team_id" = p_team_id AND f."fingerprint" = p_fingerprint AND f."firing_key" = v_firing;
        END IF;

        IF v_alert IS NOT NULL AND NOT v_is_live THEN
            UPDATE "alert_firings" SET "absorbed_at" = v_received
            WHERE "team_id" = p_team_id AND "fingerprint" = p_fingerprint AND "firing_key" = v_firing
              AND "absorbed_at" IS NULL;
            IF FOUND THEN
                INSERT INTO "alert_events" ("id", "alert_id", "key", "type", "actor", "message", "at")
                VALUES (gen_random_uuid(), v_alert, 'gateway/' || gen_random_uuid(), 'absorbed', v_source,
                        v_source || ' sent this firing again after it ended: not posted, nobody called',
                        v_received);
            END IF;
            outcome := 'absorbed';
        ELSIF v_alert IS NOT NULL THEN
            -- A live alert of a firing is the one live alert of its team and fingerprint: v_live.
            v_alert := v_live;
            v_last_seen := GREATEST(v_last_seen, v_received);
            outcome := 'resent';
        ELSE
            IF v_live IS NULL THEN
                v_content := v_report->'entry'->'start'->'input'->'content';
                v_live := gen_random_uuid();
                v_occurrences := 1;
                INSERT INTO "alerts" ("id", "team_id", "workflow_id", "fingerprint", "open_fingerprint", "source",
                    "title", "text", "severity", "link", "details", "state", "assignee", "occurrences",
                    "first_seen_at", "last_seen_at", "updated_at")
                VALUES (v_live, p_team_id, p_workflow_id, p_fingerprint, p_fingerprint, v_source,
                    v_content->>'title', v_content->>'text', v_content->>'severity', v_content->>'link',
                    v_content->'fields', 'open', v_report->'entry'->'start'->'input'->'team'->'engineers'->>0, 1,
                    v_received, v_received, v_received);
                INSERT INTO "alert_events" ("id", "alert_id", "key", "type", "actor", "message", "at")
                VALUES (gen_random_uuid(), v_live, 'gateway/' || gen_random_uuid(), 'received', v_source,
                        'Received from ' || v_source, v_received);
                outcome := 'opened';
            ELSE
                IF v_run_source IS DISTINCT FROM v_source AND v_counted > 0 THEN
                    PERFORM "intake_record_repeats"(v_live, v_run_source, v_occurrences + v_counted, v_run_at);
                    v_run_at := NULL;
                END IF;
                v_counted := v_counted + 1;
                v_run_source := v_source;
                v_run_at := GREATEST(v_run_at, v_received);
                v_last_seen := GREATEST(v_last_seen, v_received);
                outcome := 'counted';
            END IF;
            IF v_firing IS NOT NULL THEN
                INSERT INTO "alert_firings" ("team_id", "fingerprint", "firing_key", "alert_id", "first_seen_at")
                VALUES (p_team_id, p_fingerprint, v_firing, v_live, v_received) ON CONFLICT DO NOTHING;
            END IF;
            INSERT INTO "intake_journal" ("workflow_id", "partition", "kind", "payload")
            VALUES (p_workflow_id, p_partition, 'occurrence',
                    jsonb_set(jsonb_set(v_report->'entry', '{signal,alertId}', to_jsonb(v_live)),
                              '{start,input,alertId}', to_jsonb(v_live)));
            v_appended := true;
            v_alert := v_live;
        END IF;

        IF v_delivery IS NOT NULL THEN
            INSERT INTO "deliveries" ("id", "endpoint_id", "alert_id")
            VALUES (v_delivery, (v_report->>'endpointId')::UUID, v_alert);
        END IF;
        alert_id := v_alert; RETURN NEXT;
    END LOOP;

    IF v_appended AND p_channel IS NOT NULL THEN
        PERFORM pg_notify(p_channel, p_partition::TEXT);
    END IF;
    IF v_counted > 0 THEN
        PERFORM "intake_record_repeats"(v_live, v_run_source, v_occurrences + v_counted, v_run_at);
        UPDATE "alerts"
        SET "occurrences" = "occurrences" + v_counted, "last_seen_at" = GREATEST("last_seen_at", v_last_seen),
            "updated_at" = GREATEST("updated_at", v_last_seen)
        WHERE "id" = v_live;
    ELSIF v_last_seen IS NOT NULL THEN
        UPDATE "alerts" SET "last_seen_at" = GREATEST("last_seen_at", v_last_seen) WHERE "id" = v_live;
    END IF;
END
$$;

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
    INSERT INTO intake_journal (workflow_id, partition, kind, payload)
      VALUES (p_workflow_id, p_partition, 'action', p_entry)
      RETURNING id INTO v_entry_id;
    IF p_notify_channel IS NOT NULL THEN
      PERFORM pg_notify(p_notify_channel, p_partition::TEXT);
    END IF;
  END IF;
  RETURN QUERY SELECT v_alert.id, v_alert.state, v_alert.ended_by, v_alert.ended_at, v_alert.team_channel,
    v_alert.message_channel, v_entry_id;
END;
$$;
