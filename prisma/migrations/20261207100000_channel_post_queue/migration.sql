-- A channel's queue of alert messages waiting for their turn lives here, in PostgreSQL, not in the
-- channel's pacer workflow (docs/storm.md). In a storm of thousands of alerts the workflow's state,
-- its continue-as-new input, its pending signals and the signals it received all grew with the
-- queue until Temporal's limits stopped it; now the pacer holds a cursor and counts only, and each
-- waiting alert is one row.
--
-- `pacer_awake_at`: when the pacer last said it was working on the queue, or was woken (epoch ms);
-- NULL once it let the channel go. A post that queues wakes the pacer only when this is NULL or
-- stale, so a storm costs the pacer one wake, not a signal per alert.
-- `storm_since`: the storm the pacer is carrying with the digest (epoch ms), NULL outside one.
ALTER TABLE "slack_channel_pace" ADD COLUMN "pacer_awake_at" DOUBLE PRECISION,
  ADD COLUMN "storm_since" DOUBLE PRECISION;

-- One alert message waiting for its turn in a channel, or given it (`granted`, at `slot`), or taken
-- back because its alert ended first in a storm (`withdrawn`: the digest lists it; never posted).
CREATE TABLE "slack_channel_posts" (
    "id" BIGSERIAL NOT NULL,
    "channel_id" TEXT NOT NULL,
    -- The alert workflow's own name for this request: a retried request finds its row.
    "request_id" TEXT NOT NULL,
    "workflow_id" TEXT NOT NULL,
    "alert_id" UUID NOT NULL,
    "severity" TEXT NOT NULL,
    -- critical 0, error 1, warning 2, info 3: the order in which waiting posts get their turn.
    "severity_rank" SMALLINT NOT NULL,
    "title" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'waiting',
    -- The alert ended while it waited: `closed` or `resolved`.
    "ended_state" TEXT,
    "slot" DOUBLE PRECISION,
    -- The pacer's round that granted it: a round asked again returns the same grants.
    "grant_round" TEXT,
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "granted_at" TIMESTAMPTZ(3),

    CONSTRAINT "slack_channel_posts_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "slack_channel_posts_request_id_key" ON "slack_channel_posts"("request_id");
CREATE INDEX "slack_channel_posts_channel_id_id_idx" ON "slack_channel_posts"("channel_id", "id");
CREATE INDEX "slack_channel_posts_channel_id_grant_round_idx" ON "slack_channel_posts"("channel_id", "grant_round");
-- The next post to grant, and the count of those waiting, without reading what was granted.
CREATE INDEX "slack_channel_posts_waiting_idx" ON "slack_channel_posts"("channel_id", "severity_rank", "id")
  WHERE "status" = 'waiting';

-- The storm digest counts a channel's alerts since the storm began.
CREATE INDEX "alerts_team_id_first_seen_at_idx" ON "alerts"("team_id", "first_seen_at");

-- An alert asks for its post's turn. In a quiet channel (no posts queued, a slot within the
-- horizon) it takes its slot at once. Otherwise its request is queued here, and `wake` says that
-- the caller must wake the channel's pacer (it has not been told since it let the channel go, or it
-- has not been heard from for p_wake_after_ms). `ahead`: posts queued before it, counted up to 1,000.
CREATE FUNCTION "request_channel_post"(
    p_channel TEXT, p_request_id TEXT, p_workflow_id TEXT, p_alert_id UUID, p_severity TEXT, p_rank SMALLINT,
    p_title TEXT, p_now DOUBLE PRECISION, p_horizon_ms DOUBLE PRECISION, p_rate DOUBLE PRECISION,
    p_burst DOUBLE PRECISION, p_reserve DOUBLE PRECISION, p_pause_until DOUBLE PRECISION,
    p_wake_after_ms DOUBLE PRECISION)
  RETURNS TABLE (slot DOUBLE PRECISION, taken BOOLEAN, ahead BIGINT, wake BOOLEAN)
  LANGUAGE plpgsql AS $$
DECLARE
  v_slot RECORD;
  v_post RECORD;
  v_awake DOUBLE PRECISION;
  v_wake BOOLEAN := false;
  v_ahead BIGINT;
BEGIN
  SELECT q."id", q."severity_rank" INTO v_post FROM "slack_channel_posts" q WHERE q."request_id" = p_request_id;
  IF NOT FOUND THEN
    SELECT * INTO v_slot FROM take_channel_slot(
      p_channel, 'post', p_now, p_horizon_ms, p_rate, p_burst, p_reserve, 'alert', p_pause_until, NULL);
    IF v_slot.taken THEN
      RETURN QUERY SELECT v_slot.slot, true, 0::BIGINT, false;
      RETURN;
    END IF;
    INSERT INTO "slack_channel_posts"
        ("channel_id", "request_id", "workflow_id", "alert_id", "severity", "severity_rank", "title")
      VALUES (p_channel, p_request_id, p_workflow_id, p_alert_id, p_severity, p_rank, p_title)
      RETURNING "id", "severity_rank" INTO v_post;
  END IF;
  SELECT p."pacer_awake_at" INTO v_awake FROM "slack_channel_pace" p WHERE p."channel_id" = p_channel FOR UPDATE;
  IF v_awake IS NULL OR v_awake < p_now - p_wake_after_ms THEN
    v_wake := true;
    UPDATE "slack_channel_pace" SET "pacer_awake_at" = p_now WHERE "channel_id" = p_channel;
  END IF;
  SELECT count(*) INTO v_ahead FROM (
    SELECT 1 FROM "slack_channel_posts" q
      WHERE q."channel_id" = p_channel AND q."status" = 'waiting'
        AND (q."severity_rank", q."id") < (v_post."severity_rank", v_post."id")
      LIMIT 1000) ahead_of_it;
  RETURN QUERY SELECT NULL::DOUBLE PRECISION, false, v_ahead, v_wake;
END;
$$;

-- When a channel's storm began: with the burst that filled the queue, that is the first alert the
-- channel took in the 30 s before the first one whose post had to queue (the rows of the posts
-- queued are kept until the pacer lets the channel go); now when none is known.
CREATE FUNCTION "channel_storm_start"(p_channel TEXT, p_now DOUBLE PRECISION)
  RETURNS DOUBLE PRECISION
  LANGUAGE sql STABLE AS $$
  WITH first_queued AS (
    SELECT min(a."first_seen_at") AS at
      FROM "slack_channel_posts" q JOIN "alerts" a ON a."id" = q."alert_id"
      WHERE q."channel_id" = p_channel)
  SELECT coalesce(least(p_now, extract(epoch FROM min(a."first_seen_at")) * 1000), p_now)
    FROM first_queued f, "alerts" a JOIN "teams" t ON t."id" = a."team_id"
    WHERE t."slack_channel_id" = p_channel
      AND a."first_seen_at" BETWEEN f.at - INTERVAL '30 seconds' AND f.at;
$$;

-- The pacer's round: grants the best waiting posts (severity, then arrival) as long as the channel's
-- bucket gives a slot within the horizon, at most p_max. The same p_round asked again (its local
-- activity retried after it had committed) returns the grants it made. Also says when the next
-- slot would come, how many posts still wait, since when a storm is on (it begins once more than
-- p_storm_threshold wait), and when the channel's newest post was asked for (epoch ms).
CREATE FUNCTION "grant_channel_posts"(
    p_channel TEXT, p_round TEXT, p_now DOUBLE PRECISION, p_horizon_ms DOUBLE PRECISION, p_rate DOUBLE PRECISION,
    p_burst DOUBLE PRECISION, p_reserve DOUBLE PRECISION, p_pause_until DOUBLE PRECISION, p_max INTEGER,
    p_storm_threshold INTEGER)
  RETURNS TABLE (grants JSONB, next_slot DOUBLE PRECISION, waiting BIGINT, storm_since DOUBLE PRECISION,
    last_request_at DOUBLE PRECISION)
  LANGUAGE plpgsql AS $$
DECLARE
  v_grants JSONB;
  v_post RECORD;
  v_slot RECORD;
  v_next DOUBLE PRECISION;
  v_granted INTEGER := 0;
  v_waiting BIGINT;
  v_storm DOUBLE PRECISION;
  v_last DOUBLE PRECISION;
BEGIN
  SELECT jsonb_agg(jsonb_build_object('requestId', q."request_id", 'workflowId', q."workflow_id", 'slot', q."slot")
      ORDER BY q."id")
    INTO v_grants
    FROM "slack_channel_posts" q WHERE q."channel_id" = p_channel AND q."grant_round" = p_round;
  IF v_grants IS NULL THEN
    v_grants := '[]'::JSONB;
    LOOP
      EXIT WHEN v_granted >= p_max;
      SELECT q."id", q."request_id", q."workflow_id" INTO v_post FROM "slack_channel_posts" q
        WHERE q."channel_id" = p_channel AND q."status" = 'waiting'
        ORDER BY q."severity_rank", q."id" LIMIT 1 FOR UPDATE;
      EXIT WHEN NOT FOUND;
      SELECT * INTO v_slot FROM take_channel_slot(
        p_channel, 'post', p_now, p_horizon_ms, p_rate, p_burst, p_reserve, 'pacer', p_pause_until, NULL);
      p_pause_until := NULL;
      IF NOT v_slot.taken THEN
        v_next := v_slot.slot;
        EXIT;
      END IF;
      UPDATE "slack_channel_posts"
        SET "status" = 'granted', "slot" = v_slot.slot, "grant_round" = p_round, "granted_at" = CURRENT_TIMESTAMP
        WHERE "id" = v_post."id";
      v_grants := v_grants || jsonb_build_array(
        jsonb_build_object('requestId', v_post."request_id", 'workflowId', v_post."workflow_id", 'slot', v_slot.slot));
      v_granted := v_granted + 1;
    END LOOP;
  END IF;
  SELECT count(*) INTO v_waiting FROM "slack_channel_posts" q WHERE q."channel_id" = p_channel AND q."status" = 'waiting';
  SELECT p."storm_since" INTO v_storm FROM "slack_channel_pace" p WHERE p."channel_id" = p_channel FOR UPDATE;
  IF v_storm IS NULL AND v_waiting > p_storm_threshold THEN
    v_storm := channel_storm_start(p_channel, p_now);
  END IF;
  UPDATE "slack_channel_pace" SET "pacer_awake_at" = p_now, "storm_since" = v_storm WHERE "channel_id" = p_channel;
  SELECT extract(epoch FROM q."requested_at") * 1000 INTO v_last FROM "slack_channel_posts" q
    WHERE q."channel_id" = p_channel ORDER BY q."id" DESC LIMIT 1;
  RETURN QUERY SELECT v_grants, v_next, v_waiting, v_storm, v_last;
END;
$$;

-- An alert ended while its post waited. In a storm, or behind other waiting posts (which then makes
-- it a storm: the digest is where it is listed), its request is withdrawn (`withdrawn`: never
-- posted); alone in the queue it keeps its place and is posted at its turn in its final state
-- (`waits`). `gone`: no waiting request of that id (its turn was already given).
CREATE FUNCTION "withdraw_channel_post"(p_channel TEXT, p_request_id TEXT, p_state TEXT, p_now DOUBLE PRECISION)
  RETURNS TEXT
  LANGUAGE plpgsql AS $$
DECLARE
  v_storm DOUBLE PRECISION;
BEGIN
  SELECT p."storm_since" INTO v_storm FROM "slack_channel_pace" p WHERE p."channel_id" = p_channel FOR UPDATE;
  IF NOT EXISTS (SELECT 1 FROM "slack_channel_posts" q WHERE q."request_id" = p_request_id AND q."status" = 'waiting') THEN
    RETURN 'gone';
  END IF;
  IF v_storm IS NULL AND EXISTS (SELECT 1 FROM "slack_channel_posts" q
      WHERE q."channel_id" = p_channel AND q."status" = 'waiting' AND q."request_id" <> p_request_id) THEN
    v_storm := channel_storm_start(p_channel, p_now);
    UPDATE "slack_channel_pace" SET "storm_since" = v_storm WHERE "channel_id" = p_channel;
  END IF;
  UPDATE "slack_channel_posts"
    SET "ended_state" = p_state,
        "status" = CASE WHEN v_storm IS NOT NULL THEN 'withdrawn' ELSE "status" END
    WHERE "request_id" = p_request_id;
  RETURN CASE WHEN v_storm IS NOT NULL THEN 'withdrawn' ELSE 'waits' END;
END;
$$;

-- The pacer lets the channel go once nothing waits: new posts take their slot at once again, and
-- the next one queued wakes a pacer. Rows of posts granted or withdrawn are deleted then (the storm
-- that listed them is over). False, and nothing changed, while posts wait.
CREATE FUNCTION "release_channel_posts"(p_channel TEXT)
  RETURNS BOOLEAN
  LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM "slack_channel_pace" p WHERE p."channel_id" = p_channel FOR UPDATE;
  IF EXISTS (SELECT 1 FROM "slack_channel_posts" q WHERE q."channel_id" = p_channel AND q."status" = 'waiting') THEN
    RETURN false;
  END IF;
  UPDATE "slack_channel_pace"
    SET "pacer_queued" = false, "pacer_awake_at" = NULL, "storm_since" = NULL, "updated_at" = CURRENT_TIMESTAMP
    WHERE "channel_id" = p_channel;
  DELETE FROM "slack_channel_posts" WHERE "channel_id" = p_channel AND "status" <> 'waiting';
  RETURN true;
END;
$$;
