#!/bin/sh
# Creates (or upgrades) the Temporal server's two databases on the compose PostgreSQL. Runs in the
# temporalio/admin-tools image before the server starts; every step is a no-op when already done,
# so it runs on each `docker compose up` and applies new schema versions after an image upgrade.
set -eu

sql() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) schema=/etc/temporal/schema/postgresql/v12/temporal/versioned ;;
    *) schema=/etc/temporal/schema/postgresql/v12/visibility/versioned ;;
  esac
  sql --db "$db" create
  sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema -d "$schema"
done
echo "Temporal schema is up to date"
