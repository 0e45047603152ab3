-- Firing reports of an alert that is already live, taken in one statement (src/api/services/alert-intake.ts).
--
-- Reports of one alert take turns on its journal lock until they commit (src/intake/journal.ts).
-- As one statement in autocommit, the lock is held for this function and the commit only, however
-- many round trips the gateway's event loop would have needed; and the gateway hands over, in one
-- call, every report of the alert that arrived while its previous call ran, so 16 senders of one
-- alert cost a few lock turns, not 16.
--
-- p_reports: a JSON array, in the order the reports are to be taken, of
--   {endpointId, deliveryKey?, firingKey?, receivedAt, source, entry}
-- where entry is the intake journal entry the report becomes; the live alert's id is set in it at
-- signal.alertId and start.input.alertId.
--
-- One row per report taken, in order (nothing is written for a report unless its outcome says so):
--   redelivered   the sender's delivery id was taken before: alert_id is the alert it counted on then.
--   resent        a firing already seen on the live alert: its "last seen" moves, nothing else.
--   counted       a new firing of the live alert: occurrences + 1, "last seen", the timeline (a run of
--                 repeats from one source is one line, "Reported again by <source> (×N)", moved
--                 forward), the firing and delivery remembered, the entry appended to the journal.
--   ended-firing  a firing already seen on an alert that has ended (a person closed it): alert_id.
--   new           no live alert of this fingerprint: the caller opens one.
-- The reports after an `ended-firing` or `new` are not taken (no row): the caller takes them again.
-- Called inside a transaction, the lock stays held until that transaction ends, so the caller can
-- act on `ended-firing` and `new` under it.
--
-- receivedAt is read when a request arrives, before the lock: "last seen" only ever moves forward.

-- The timeline line of a run of repeats from one source: the alert's latest line when that is the
-- same run, moved forward, or a new line.
CREATE FUNCTION "intake_record_repeats"(p_alert_id UUID, p_source TEXT, p_occurrences INTEGER, p_at TIMESTAMPTZ)
RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
    v_last RECORD;
    v_message TEXT := 'Reported again by ' || p_source || ' (×' || p_occurrences || ')';
BEGIN
    SELECT e."id", e."type", e."actor" INTO v_last
    FROM "alert_events" e WHERE e."alert_id" = p_alert_id ORDER BY e."at" DESC, e."id" DESC LIMIT 1;
    IF FOUND AND v_last."type" = 'repeated' AND v_last."actor" IS NOT DISTINCT FROM p_source THEN
        UPDATE "alert_events" SET "message" = v_message, "at" = GREATEST("at", p_at) WHERE "id" = v_last."id";
    ELSE
        INSERT INTO "alert_events" ("id", "alert_id", "key", "type", "actor", "message", "at")
        VALUES (gen_random_uuid(), p_alert_id, 'gateway/' || gen_random_uuid(), 'repeated', p_source, v_message, p_at);
    END IF;
END
$$;

CREATE FUNCTION "intake_take_repeats"(
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
    v_last_seen TIMESTAMPTZ;
    v_run_source TEXT;
    v_run_at TIMESTAMPTZ;
    v_report JSONB;
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

        IF v_firing IS NOT NULL THEN
            SELECT f."alert_id", a."open_fingerprint" IS NOT NULL INTO v_alert, v_is_live
            FROM "alert_firings" f JOIN "alerts" a ON a."id" = f."alert_id"
            WHERE f."team_id" = p_team_id AND f."fingerprint" = p_fingerprint AND f."firing_key" = v_firing;
            IF FOUND AND NOT v_is_live THEN
                outcome := 'ended-firing'; alert_id := v_alert; RETURN NEXT;
                EXIT;
            END IF;
            -- A live alert of a firing is the one live alert of its team and fingerprint: v_live.
            IF FOUND THEN
                v_last_seen := GREATEST(v_last_seen, v_received);
                IF v_delivery IS NOT NULL THEN
                    INSERT INTO "deliveries" ("id", "endpoint_id", "alert_id")
                    VALUES (v_delivery, (v_report->>'endpointId')::UUID, v_live);
                END IF;
                outcome := 'resent'; alert_id := v_live; RETURN NEXT;
                CONTINUE;
            END IF;
        END IF;

        IF v_live IS NULL THEN
            outcome := 'new'; alert_id := NULL; RETURN NEXT;
            EXIT;
        END IF;

        IF v_firing IS NOT NULL THEN
            INSERT INTO "alert_firings" ("team_id", "fingerprint", "firing_key", "alert_id", "first_seen_at")
            VALUES (p_team_id, p_fingerprint, v_firing, v_live, v_received) ON CONFLICT DO NOTHING;
        END IF;
        IF v_run_source IS DISTINCT FROM v_source AND v_counted > 0 THEN
            PERFORM "intake_record_repeats"(v_live, v_run_source, v_occurrences + v_counted, v_run_at);
            v_run_at := NULL;
        END IF;
        v_counted := v_counted + 1;
        v_run_source := v_source;
        v_run_at := GREATEST(v_run_at, v_received);
        v_last_seen := GREATEST(v_last_seen, v_received);
        INSERT INTO "intake_journal" ("workflow_id", "partition", "kind", "payload")
        VALUES (p_workflow_id, p_partition, 'occurrence',
                jsonb_set(jsonb_set(v_report->'entry', '{signal,alertId}', to_jsonb(v_live)),
                          '{start,input,alertId}', to_jsonb(v_live)));
        IF v_delivery IS NOT NULL THEN
            INSERT INTO "deliveries" ("id", "endpoint_id", "alert_id")
            VALUES (v_delivery, (v_report->>'endpointId')::UUID, v_live);
        END IF;
        outcome := 'counted'; alert_id := v_live; RETURN NEXT;
    END LOOP;

    IF v_counted > 0 THEN
        PERFORM "intake_record_repeats"(v_live, v_run_source, v_occurrences + v_counted, v_run_at);
        PERFORM pg_notify(p_channel, p_partition::TEXT);
        UPDATE "alerts"
        SET "occurrences" = "occurrences" + v_counted, "last_seen_at" = GREATEST("last_seen_at", v_last_seen),
            "updated_at" = GREATEST("updated_at", v_last_seen)
        WHERE "id" = v_live;
    ELSIF v_last_seen IS NOT NULL THEN
        UPDATE "alerts" SET "last_seen_at" = GREATEST("last_seen_at", v_last_seen) WHERE "id" = v_live;
    END IF;
END
$$;
