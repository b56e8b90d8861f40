#!/bin/sh
# Entry point of the Kasir server image: bring the database to the newest schema, then
# run the command (by default `kasir-server serve`, see the Dockerfile's CMD).
#
# KASIR_MIGRATE_ON_START=0 skips the migration here (docker-compose.yml migrates once in
# its `migrate` service, so two replicas never run Alembic at the same time).
set -eu

if [ "${KASIR_MIGRATE_ON_START:-1}" = "1" ]; then
    echo "docker-entrypoint: migrating the database" >&2
    kasir-server migrate
fi
# Migrated above or by the `migrate` service: the app need not do it again as it starts.
export KASIR_RUN_MIGRATIONS_ON_START=false

if [ "$#" -eq 0 ]; then
    set -- kasir-server serve --host 0.0.0.0 --port "${KASIR_PORT:-8000}"
fi
exec "$@"
