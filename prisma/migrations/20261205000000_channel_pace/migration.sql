-- The pace of each Slack channel, shared by every worker (src/activities/channel-activities.ts,
-- docs/storm.md): a token bucket of chat.postMessage turns whose slots are handed out here, in one
-- statement under the channel's row lock.
--
-- Thread calls (an escalation's mention) take their slot here directly, at once, from the turn the
-- bucket keeps back for them: they never wait behind the channel's pacer workflow. A new alert
-- message takes its slot here too while the channel is quiet; once the bucket cannot give one within
-- the horizon, the channel's pacer workflow takes over the posts (`pacer_queued`), orders them by
-- severity and asks here for each slot in turn, until its queue is empty again.
CREATE TABLE "slack_channel_pace" (
    "channel_id" TEXT NOT NULL,
    -- Turns in the bucket at tokens_at (epoch ms, the workers' clock; ahead of now once slots are
    -- handed out ahead).
    "tokens" DOUBLE PRECISION NOT NULL,
    "tokens_at" DOUBLE PRECISION NOT NULL,
    -- Slack answered 429: nothing goes before this (epoch ms).
    "paused_until" DOUBLE PRECISION NOT NULL DEFAULT 0,
    -- The pacer workflow holds posts: new posts queue behind them instead of taking a slot here.
    "pacer_queued" BOOLEAN NOT NULL DEFAULT false,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "slack_channel_pace_pkey" PRIMARY KEY ("channel_id")
);

-- Takes the next slot of `p_kind` ('call' or 'post'; the digest is a post) in a channel.
--   p_now         the caller's clock (epoch ms); p_horizon_ms: a slot further ahead is not taken.
--   p_rate, p_burst, p_reserve: the pace (turns per second, bucket size, turns kept for calls).
--   p_asker       'alert': an alert's post asks only while the pacer holds no posts, and one refused
--                 makes the pacer hold posts from now on; 'pacer': the pacer, for a post it holds;
--                 'direct': a slot and nothing else (a post whose slot passed while its worker was
--                 busy takes a new one; the workspace's chat.update allowance).
--   p_pause_until Slack answered 429 (epoch ms until its Retry-After is over), or NULL.
--   p_not_before  a call booked ahead of its escalation step: its slot is not before this, or NULL.
-- Returns the slot (epoch ms) and whether it was taken; a slot not taken says when one would come.
CREATE FUNCTION "take_channel_slot"(
    p_channel TEXT, p_kind TEXT, p_now DOUBLE PRECISION, p_horizon_ms DOUBLE PRECISION,
    p_rate DOUBLE PRECISION, p_burst DOUBLE PRECISION, p_reserve DOUBLE PRECISION,
    p_asker TEXT, p_pause_until DOUBLE PRECISION, p_not_before DOUBLE PRECISION)
  RETURNS TABLE (slot DOUBLE PRECISION, taken BOOLEAN)
  LANGUAGE plpgsql AS $$
DECLARE
  pace "slack_channel_pace"%ROWTYPE;
  v_tokens DOUBLE PRECISION;
  v_at DOUBLE PRECISION;
  v_paused DOUBLE PRECISION;
  v_needed DOUBLE PRECISION;
  v_from DOUBLE PRECISION;
  v_now_tokens DOUBLE PRECISION;
  v_slot DOUBLE PRECISION;
  v_queued BOOLEAN;
  v_taken BOOLEAN;
BEGIN
  INSERT INTO "slack_channel_pace" ("channel_id", "tokens", "tokens_at")
    VALUES (p_channel, p_burst, p_now) ON CONFLICT DO NOTHING;
  SELECT * INTO pace FROM "slack_channel_pace" WHERE "channel_id" = p_channel FOR UPDATE;
  v_tokens := pace."tokens";
  v_at := pace."tokens_at";
  v_paused := pace."paused_until";
  v_queued := pace."pacer_queued";
  -- Refill up to now; slots handed out ahead leave the bucket standing at their end.
  IF v_at < p_now THEN
    v_tokens := least(p_burst, v_tokens + (p_now - v_at) / 1000 * p_rate);
    v_at := p_now;
  END IF;
  -- After a 429, one turn is there when Retry-After is over, and nothing before.
  IF p_pause_until IS NOT NULL AND p_pause_until > v_paused THEN
    v_paused := p_pause_until;
    IF v_at < v_paused THEN
      v_tokens := least(v_tokens, 1);
      v_at := v_paused;
    END IF;
  END IF;

  -- The pacer asking for a post holds posts (again, should a release have crossed a post on its way).
  IF p_asker = 'pacer' AND p_kind = 'post' THEN
    v_queued := true;
  END IF;

  v_needed := CASE WHEN p_kind = 'call' THEN 1 ELSE 1 + least(p_reserve, p_burst - 1) END;
  IF p_kind = 'call' THEN
    -- A call may use the kept-back turn before posts already given later slots: the turns there
    -- are then (tokens at v_at) less what has not refilled yet by the call's time.
    v_from := greatest(p_now, v_paused, p_not_before);
    v_now_tokens := v_tokens - greatest(v_at - v_from, 0) / 1000 * p_rate;
    IF v_now_tokens >= 1 THEN
      v_slot := v_from;
    ELSE
      v_slot := v_from + (1 - v_now_tokens) / p_rate * 1000;
    END IF;
  ELSE
    v_from := greatest(p_now, v_at);
    IF v_tokens >= v_needed THEN
      v_slot := v_from;
    ELSE
      v_slot := v_from + (v_needed - v_tokens) / p_rate * 1000;
    END IF;
  END IF;

  -- Not taken: the slot lies beyond the horizon, or an alert's post must queue behind the pacer's.
  v_taken := NOT ((p_kind = 'post' AND p_asker = 'alert' AND v_queued) OR v_slot > p_now + p_horizon_ms);
  IF NOT v_taken AND p_kind = 'post' AND p_asker = 'alert' THEN
    v_queued := true;
  END IF;
  IF v_taken THEN
    IF v_slot > v_at THEN
      v_tokens := least(p_burst, v_tokens + (v_slot - v_at) / 1000 * p_rate);
      v_at := v_slot;
    END IF;
    v_tokens := v_tokens - 1;
  END IF;
  UPDATE "slack_channel_pace"
    SET "tokens" = v_tokens, "tokens_at" = v_at, "paused_until" = v_paused, "pacer_queued" = v_queued,
        "updated_at" = CURRENT_TIMESTAMP
    WHERE "channel_id" = p_channel;
  RETURN QUERY SELECT v_slot, v_taken;
END;
$$;
