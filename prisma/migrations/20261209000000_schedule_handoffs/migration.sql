-- Handoff notices and user-group sync (issue 21, docs/oncall.md): both opt-in per schedule. While
-- either is on, one workflow per schedule (`schedule-handoffs/<id>`) sleeps until the next change of
-- who is on call, then posts in the channels of the teams that use the schedule and sets the group.
ALTER TABLE "schedules" ADD COLUMN "handoff_notices" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "slack_usergroup_id" TEXT;
