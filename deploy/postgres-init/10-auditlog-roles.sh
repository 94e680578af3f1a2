#!/bin/sh
# Runs once, when the postgres container initialises an empty data directory
# (mounted into /docker-entrypoint-initdb.d by compose.yaml). It creates the
# service's roles; the schema owner is POSTGRES_USER, which the migration uses.
#   auditlog_app      NOLOGIN group role; the migration grants it the tables
#   auditlog_service  the login of the API and the worker: owns nothing, no
#                     SUPERUSER, no BYPASSRLS, so row-level security binds it
set -eu
psql -v ON_ERROR_STOP=1 -v service_password="${AUDITLOG_SERVICE_PASSWORD:?set it in auditlog.env}" \
     --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE auditlog_app NOLOGIN;
CREATE ROLE auditlog_service LOGIN PASSWORD :'service_password' IN ROLE auditlog_app;
SQL
