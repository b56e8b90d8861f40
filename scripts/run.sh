#!/usr/bin/env bash
# The main job: the server on the embedded SQLite default with the demo minimarket,
# then the cashier app enrolled against it (or, with no display, a scripted sale).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

export KASIR_DATA_DIR=${KASIR_DATA_DIR:-data/demo}
PORT=${KASIR_PORT:-8000}
mkdir -p "$KASIR_DATA_DIR"
.venv/bin/kasir-server migrate
.venv/bin/kasir-server seed-demo

echo "Kasir server on http://127.0.0.1:$PORT  (API docs: http://127.0.0.1:$PORT/docs)"
echo "Manager login: manager / manager123   Cashiers: siti PIN 1111, budi PIN 2222"
exec .venv/bin/kasir-server serve --host 127.0.0.1 --port "$PORT"
