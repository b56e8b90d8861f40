#!/usr/bin/env bash
# The whole test suite: set-up, lint, types, then every test (SQLite and MariaDB,
# the Kivy app under Xvfb, the manager pages in headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

echo "== ruff"
.venv/bin/ruff check .
echo "== mypy"
.venv/bin/mypy pos_client sync_server shared benches
echo "== import-linter (layers)"
.venv/bin/lint-imports --no-cache
echo "== pytest"
# A virtual display for the Kivy window tests.
if [ -z "${DISPLAY:-}" ] && command -v Xvfb >/dev/null 2>&1; then
  Xvfb :99 -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  XVFB_PID=$!
  trap 'kill $XVFB_PID 2>/dev/null || true' EXIT
  export DISPLAY=:99
  sleep 1
fi
set +e
.venv/bin/python -m pytest -n 2 --dist loadgroup -p no:cacheprovider --durations=15 "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then
  echo "pytest collected no tests"; exit 1
fi
exit $rc
