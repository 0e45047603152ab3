-- CreateTable
CREATE TABLE "alert_firings" (
    "team_id" UUID NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "firing_key" TEXT NOT NULL,
    "alert_id" UUID NOT NULL,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "absorbed_at" TIMESTAMPTZ(3),

    CONSTRAINT "alert_firings_pkey" PRIMARY KEY ("team_id","fingerprint","firing_key")
);

-- CreateTable
CREATE TABLE "intake_journal" (
    "id" BIGSERIAL NOT NULL,
    "workflow_id" TEXT NOT NULL,
    "partition" SMALLINT NOT NULL,
    "kind" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "dispatched_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,

    CONSTRAINT "intake_journal_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "alert_firings_alert_id_idx" ON "alert_firings"("alert_id");

-- CreateIndex
CREATE INDEX "intake_journal_workflow_id_id_idx" ON "intake_journal"("workflow_id", "id");

-- The dispatcher's queue: only entries not yet handed over, per partition, in order. Partial, so
-- that it stays small however long the journal grows (Prisma's schema cannot say `WHERE`).
CREATE INDEX "intake_journal_pending_idx" ON "intake_journal"("partition", "id") WHERE "dispatched_at" IS NULL;

-- AddForeignKey
ALTER TABLE "alert_firings" ADD CONSTRAINT "alert_firings_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert_firings" ADD CONSTRAINT "alert_firings_alert_id_fkey" FOREIGN KEY ("alert_id") REFERENCES "alerts"("id") ON DELETE CASCADE ON UPDATE CASCADE;
