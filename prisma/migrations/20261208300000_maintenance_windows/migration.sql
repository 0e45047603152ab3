-- Maintenance windows: alerts are recorded and shown, nobody is paged (docs/maintenance.md).
CREATE TABLE "maintenance_windows" (
    "id" UUID NOT NULL,
    "team_id" UUID NOT NULL,
    "reason" TEXT,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3),
    "recurrence" JSONB,
    "match" JSONB,
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "maintenance_windows_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "maintenance_windows_team_id_ends_at_idx" ON "maintenance_windows"("team_id", "ends_at");

ALTER TABLE "maintenance_windows" ADD CONSTRAINT "maintenance_windows_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;
