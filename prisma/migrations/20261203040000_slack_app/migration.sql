-- AlterTable
ALTER TABLE "teams" ADD COLUMN     "installation_id" UUID,
ADD COLUMN     "paused_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "slack_installations" (
    "id" UUID NOT NULL,
    "slack_team_id" TEXT NOT NULL,
    "enterprise_id" TEXT,
    "team_name" TEXT,
    "bot_user_id" TEXT,
    "sealed_installation" TEXT,
    "installed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "uninstalled_at" TIMESTAMPTZ(3),

    CONSTRAINT "slack_installations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "slack_event_receipts" (
    "event_id" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "slack_event_receipts_pkey" PRIMARY KEY ("event_id")
);

-- CreateTable
CREATE TABLE "team_audit_entries" (
    "id" UUID NOT NULL,
    "team_id" UUID NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "detail" JSONB,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "team_audit_entries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "slack_installations_slack_team_id_key" ON "slack_installations"("slack_team_id");

-- CreateIndex
CREATE INDEX "team_audit_entries_team_id_at_idx" ON "team_audit_entries"("team_id", "at");

-- CreateIndex
CREATE UNIQUE INDEX "teams_installation_id_slack_channel_id_key" ON "teams"("installation_id", "slack_channel_id");

-- AddForeignKey
ALTER TABLE "teams" ADD CONSTRAINT "teams_installation_id_fkey" FOREIGN KEY ("installation_id") REFERENCES "slack_installations"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "team_audit_entries" ADD CONSTRAINT "team_audit_entries_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;
