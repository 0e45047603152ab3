#!/bin/sh
# Creates (or upgrades) the Temporal server's two databases on PostgreSQL. docker-compose.yml runs
# it in the temporalio/admin-tools image before the server starts; `npm run test:cluster` runs this
# same file on the host. Every step is a no-op when already done, so it runs on each
# `docker compose up` and applies new schema versions after an upgrade of the pinned version.
#
# Reads deploy/temporal/server.env's POSTGRES_SEEDS, DB_PORT, POSTGRES_USER, POSTGRES_PWD, DBNAME,
# VISIBILITY_DBNAME; TEMPORAL_SQL_TOOL names the tool when it is not temporal-sql-tool on PATH.
# The schemas come from inside the tool (--schema-name), so they always match its version.
set -eu

# temporal-sql-tool reads the password from SQL_PASSWORD; the server's template from POSTGRES_PWD.
SQL_PASSWORD="$POSTGRES_PWD"
export SQL_PASSWORD

sql() {
  "${TEMPORAL_SQL_TOOL:-temporal-sql-tool}" --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" \
    -u "$POSTGRES_USER" "$@"
}

setup() {
  sql --db "$1" create
  sql --db "$1" setup-schema -v 0.0
  sql --db "$1" update-schema --schema-name "$2"
}

setup "${DBNAME:-temporal}" postgresql/v12/temporal
setup "${VISIBILITY_DBNAME:-temporal_visibility}" postgresql/v12/visibility
echo "Temporal schema is up to date"
