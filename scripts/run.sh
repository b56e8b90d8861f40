#!/usr/bin/env bash
# The main job: the server on the embedded SQLite default with the demo minimarket,
# the local Tripay sandbox for QRIS, and the cashier app already enrolled against the
# server. On a machine with no display the app says so and runs a scripted sale.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

PORT=${KASIR_PORT:-8000}
SANDBOX_PORT=${KASIR_SANDBOX_PORT:-8765}
export KASIR_DATA_DIR=${KASIR_DATA_DIR:-data/demo-server}
export KASIR_TRIPAY_BASE_URL=${KASIR_TRIPAY_BASE_URL:-http://127.0.0.1:$SANDBOX_PORT/api-sandbox/}
export KASIR_PUBLIC_BASE_URL=${KASIR_PUBLIC_BASE_URL:-http://127.0.0.1:$PORT}
TILL_DIR=${KASIR_TILL_DIR:-data/demo-till}
mkdir -p "$KASIR_DATA_DIR" "$TILL_DIR"

.venv/bin/kasir-server migrate
.venv/bin/kasir-server seed-demo

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

.venv/bin/python -m sync_server.tripay_sandbox serve --host 127.0.0.1 --port "$SANDBOX_PORT" \
  --retry-interval 10 >"$KASIR_DATA_DIR/sandbox.log" 2>&1 &
pids+=($!)
.venv/bin/kasir-server serve --host 127.0.0.1 --port "$PORT" >"$KASIR_DATA_DIR/server.log" 2>&1 &
pids+=($!)
# QRIS orders whose callback never came are settled by asking Tripay.
.venv/bin/python -m sync_server.payments settle --every 60 >"$KASIR_DATA_DIR/settle.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do
  curl -fs "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fs "http://127.0.0.1:$PORT/health" >/dev/null || { echo "server did not start"; cat "$KASIR_DATA_DIR/server.log"; exit 1; }

echo "Kasir server on http://127.0.0.1:$PORT  (API docs: http://127.0.0.1:$PORT/docs)"
echo "Tripay sandbox on http://127.0.0.1:$SANDBOX_PORT/api-sandbox/"
echo "Manager login: manager / manager123   Cashiers: siti PIN 1111, budi PIN 2222 (manager PIN 9999)"

enroll_args=()
enrolled=$(.venv/bin/python - "$TILL_DIR" <<'PY'
import sys
from pathlib import Path
from pos_client.config import ClientSettings
from pos_client.store import LocalStore
store = LocalStore.open(ClientSettings(data_dir=Path(sys.argv[1])))
print("yes" if store.device_token() else "no")
store.close()
PY
)
if [ "$enrolled" = "no" ]; then
  for code in T01 T02 T03 T04 T05 T06 T07 T08 T09; do
    if out=$(.venv/bin/kasir-server enroll-terminal --store-code S01 --terminal-code "$code" \
             --name "Kasir demo" 2>/dev/null); then
      enroll_args=(--enroll-code "$(echo "$out" | tail -n 1)")
      echo "Till enrolled as terminal $code"
      break
    fi
  done
fi

.venv/bin/kasir --server "http://127.0.0.1:$PORT" --data-dir "$TILL_DIR" "${enroll_args[@]}"
