-- Deleting a team archives it (issue 26): its alerts, their timelines and its audit entries stay
-- readable through the API; its endpoints are deleted, so its tokens stop working at once. The
-- unique names, channels and workflow names are those of live teams only: a new team may take the
-- name or the channel of an archived one.
ALTER TABLE "teams" ADD COLUMN "archived_at" TIMESTAMPTZ(3);

DROP INDEX "teams_installation_id_name_key";
CREATE UNIQUE INDEX "teams_installation_id_name_key" ON "teams"("installation_id", "name") NULLS NOT DISTINCT
  WHERE "archived_at" IS NULL;

DROP INDEX "teams_installation_id_slack_channel_id_key";
CREATE UNIQUE INDEX "teams_installation_id_slack_channel_id_key" ON "teams"("installation_id", "slack_channel_id")
  WHERE "archived_at" IS NULL;

DROP INDEX "teams_workflow_name_key";
CREATE UNIQUE INDEX "teams_workflow_name_key" ON "teams"("workflow_name") WHERE "archived_at" IS NULL;
