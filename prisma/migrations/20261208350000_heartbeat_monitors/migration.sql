-- Heartbeat monitors (docs/heartbeats.md): a ping is one UPDATE of its row (by token hash), and
-- each gateway's sweeper finds the monitors past their deadline through the partial index on
-- due_at, taking each one with FOR UPDATE SKIP LOCKED, so that several gateways share the work and
-- exactly one of them opens each alert.
CREATE TABLE "heartbeat_monitors" (
    "id" UUID NOT NULL,
    "team_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "interval_ms" INTEGER NOT NULL,
    "grace_ms" INTEGER NOT NULL,
    "severity" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'inactive',
    "paused_at" TIMESTAMPTZ(3),
    "last_ping_at" TIMESTAMPTZ(3),
    "due_at" TIMESTAMPTZ(3),
    "unhealthy_since" TIMESTAMPTZ(3),
    "resolve_pending" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "heartbeat_monitors_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "heartbeat_monitors_state_check" CHECK ("state" IN ('inactive', 'healthy', 'unhealthy'))
);

CREATE UNIQUE INDEX "heartbeat_monitors_token_hash_key" ON "heartbeat_monitors"("token_hash");
CREATE UNIQUE INDEX "heartbeat_monitors_team_id_name_key" ON "heartbeat_monitors"("team_id", "name");

-- What the sweeper reads every quarter second: only the monitors that can miss a deadline, in
-- deadline order, and those whose resolution is still to be reported. Both stay small.
CREATE INDEX "heartbeat_monitors_due_idx" ON "heartbeat_monitors"("due_at")
    WHERE "state" = 'healthy' AND "paused_at" IS NULL;
CREATE INDEX "heartbeat_monitors_resolve_pending_idx" ON "heartbeat_monitors"("id")
    WHERE "resolve_pending";

ALTER TABLE "heartbeat_monitors" ADD CONSTRAINT "heartbeat_monitors_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;
