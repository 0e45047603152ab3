-- Team names are unique per Slack installation, not across all of them (issue 24): one workspace
-- can no longer take the names another workspace's channels would get. NULLS NOT DISTINCT: the
-- teams of SLACK_BOT_TOKEN (installation_id NULL) are one installation, their names unique too.
DROP INDEX "teams_name_key";
CREATE UNIQUE INDEX "teams_installation_id_name_key" ON "teams"("installation_id", "name") NULLS NOT DISTINCT;

-- Alert workflow ids name the team (`alert/<team>/<fingerprint>`), and must stay unique across
-- installations: workflow_name is that part. Existing teams keep their (globally unique) names in
-- it, so that the workflow ids of their open alerts do not change.
ALTER TABLE "teams" ADD COLUMN "workflow_name" TEXT;
UPDATE "teams" SET "workflow_name" = "name";
CREATE UNIQUE INDEX "teams_workflow_name_key" ON "teams"("workflow_name");
