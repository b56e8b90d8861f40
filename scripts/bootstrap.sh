#!/usr/bin/env bash
# Install everything Kasir needs on a fresh Debian/Ubuntu machine: system libraries,
# MariaDB (if missing, and started), a venv and the Python packages. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need_apt=()
dpkg -s libzbar0 >/dev/null 2>&1 || need_apt+=(libzbar0)
dpkg -s xvfb >/dev/null 2>&1 || need_apt+=(xvfb xauth)
dpkg -s xdotool >/dev/null 2>&1 || need_apt+=(xdotool)
dpkg -s libmtdev1 >/dev/null 2>&1 || need_apt+=(libmtdev1)
dpkg -s chromium >/dev/null 2>&1 || need_apt+=(chromium)
dpkg -s chromium-driver >/dev/null 2>&1 || need_apt+=(chromium-driver)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)     # tests/ops: promtool, a real Prometheus
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)   # tests/ops: unit files
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need_apt+=(mariadb-server)
dpkg -s galera-4 >/dev/null 2>&1 || need_apt+=(galera-4)   # tests/cluster: 3-node Galera
command -v rsync >/dev/null 2>&1 || need_apt+=(rsync)        # its state transfer (SST)
dpkg -s libmariadb-dev >/dev/null 2>&1 || need_apt+=(libmariadb-dev)  # mysqlclient (the mysqldb extra)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
dpkg -s python3-dev >/dev/null 2>&1 || need_apt+=(python3-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "bootstrap: installing system packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# MariaDB: start it if it is not answering (the tests and benches use it).
if ! mysqladmin -uroot --connect-timeout=2 ping >/dev/null 2>&1; then
  echo "bootstrap: starting MariaDB"
  $SUDO mkdir -p /run/mysqld && $SUDO chown mysql:mysql /run/mysqld 2>/dev/null || true
  $SUDO start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql || true
  for _ in $(seq 1 30); do
    mysqladmin -uroot --connect-timeout=2 ping >/dev/null 2>&1 && break
    sleep 1
  done
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.kasir-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: installing Python packages"
  .venv/bin/pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
  .venv/bin/pip install -q -e '.[server,mysqldb,client,dev,build]' 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import kivy, fastapi, sqlalchemy, pyzbar.pyzbar, cv2, escpos, MySQLdb" >/dev/null
  touch "$stamp"
fi
