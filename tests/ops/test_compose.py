"""packaging/docker-compose.yml, the Dockerfile and the entry point, checked without a
Docker engine: the compose file against the Compose specification's shapes (a subset of
the spec's JSON schema kept in compose-spec.schema.json), every file, service and volume
it names exists, the Dockerfile copies what is there, and the entry point runs here,
migrating a real SQLite database before it would start the server."""

from __future__ import annotations

import copy
import json
import os
import re
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from tests.ops.conftest import NGINX_DIR, PACKAGING, ROOT
from tests.tools import run_command

COMPOSE = PACKAGING / "docker-compose.yml"
DOCKERFILE = PACKAGING / "Dockerfile"
ENTRYPOINT = PACKAGING / "docker-entrypoint.sh"
SCHEMA = Path(__file__).with_name("compose-spec.schema.json")
SERVE = ["kasir-server", "serve", "--host", "0.0.0.0", "--port", "8000"]  # noqa: S104 - in a container


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema_rs.Draft7Validator(json.loads(SCHEMA.read_text()))
    return [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_the_compose_file_follows_the_compose_specification() -> None:
    assert _errors(_compose()) == []


def test_the_schema_check_catches_broken_files() -> None:
    broken = copy.deepcopy(_compose())
    del broken["services"]["nginx"]["image"]  # neither image nor build
    broken["services"]["mariadb"]["healthcheck"]["interval"] = "ten seconds"
    broken["services"]["server-1"]["depends_on"]["mariadb"]["condition"] = "healthy"
    broken["services"]["grafana"]["volume"] = []  # a typo of `volumes`
    broken["servcies"] = {}
    errors = "\n".join(_errors(broken))
    for where in (
        "['services', 'nginx']",
        "['services', 'mariadb', 'healthcheck', 'interval']",
        "['services', 'server-1', 'depends_on']",
        "'volume' was unexpected",
        "'servcies' was unexpected",
    ):
        assert where in errors, f"{where} not reported:\n{errors}"


def test_the_stack_has_its_services_and_only_nginx_faces_the_shop() -> None:
    services = _compose()["services"]
    assert set(services) == {
        "mariadb",
        "migrate",
        "server-1",
        "server-2",
        "backoffice",
        "nginx",
        "prometheus",
        "grafana",
        "cadvisor",
        "tripay-sandbox",
    }
    assert services["tripay-sandbox"]["profiles"] == ["sandbox"]
    assert services["tripay-sandbox"]["command"][:3] == [
        "python",
        "-m",
        "sync_server.tripay_sandbox",
    ]
    for name, service in services.items():
        for port in service.get("ports", []):
            assert name == "nginx" or str(port).startswith("127.0.0.1:"), (name, port)
    for replica in ("server-1", "server-2", "backoffice"):
        server = services[replica]
        assert "ports" not in server
        assert server["environment"]["KASIR_MIGRATE_ON_START"] == "0"
        assert server["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert server["depends_on"]["mariadb"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["kasir-server", "migrate"]
    assert services["mariadb"]["healthcheck"]["test"][0] == "CMD"


SYNC_SERVERS = ("server-1", "server-2")
DEFAULT_CPU_SHARES = 1024
"""Docker's weight for a service that sets none."""


def test_the_back_office_is_its_own_service_of_the_same_image_and_settings() -> None:
    services = _compose()["services"]
    backoffice = services["backoffice"]
    for name in SYNC_SERVERS:
        server = services[name]
        assert backoffice["image"] == server["image"]
        assert backoffice["build"] == server["build"]
        assert backoffice["environment"] == server["environment"]
        assert backoffice["depends_on"] == server["depends_on"]
        assert "command" not in server  # the image's CMD: serve on :8000
    assert backoffice["command"][:2] == ["kasir-server", "serve"]
    assert backoffice["command"][backoffice["command"].index("--port") + 1] == "8000"
    nginx_needs = services["nginx"]["depends_on"]
    assert {*SYNC_SERVERS, "backoffice"} <= set(nginx_needs)
    assert all(nginx_needs[n]["condition"] == "service_healthy" for n in nginx_needs)


def test_under_contention_the_back_office_outweighs_every_other_service() -> None:
    services = _compose()["services"]
    shares = {
        name: int(service.get("cpu_shares", DEFAULT_CPU_SHARES))
        for name, service in services.items()
    }
    backoffice = shares.pop("backoffice")
    sync = [shares.pop(name) for name in SYNC_SERVERS]
    # Each sync server weighs at most an eighth of the back office (nice 10 against 0 is
    # ~1/9 in the storm bench), and less than the database and the gateway they need.
    assert all(8 * weight <= backoffice for weight in sync), (sync, backoffice)
    assert all(weight < min(shares.values()) for weight in sync), (sync, shares)
    assert all(backoffice > weight for weight in shares.values()), shares


def test_the_schema_check_catches_a_misspelt_cpu_weight() -> None:
    broken = copy.deepcopy(_compose())
    broken["services"]["backoffice"]["cpu_share"] = broken["services"]["backoffice"].pop(
        "cpu_shares"
    )
    broken["services"]["server-1"]["cpu_shares"] = ["256"]
    errors = "\n".join(_errors(broken))
    assert "'cpu_share' was unexpected" in errors, errors
    assert "['services', 'server-1', 'cpu_shares']" in errors, errors


def test_everything_the_compose_file_names_exists() -> None:
    doc = _compose()
    services = doc["services"]
    for name, service in services.items():
        build = service.get("build")
        if build:
            context = (PACKAGING / build["context"]).resolve()
            assert context == ROOT, name
            assert (context / build["dockerfile"]).is_file(), name
        for dep in service.get("depends_on", []):
            assert dep in services, f"{name} depends on unknown {dep}"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (PACKAGING / source).exists(), f"{name} mounts missing {source}"
            elif not source.startswith("/"):
                assert source in doc["volumes"], f"{name} uses undeclared volume {source}"


def test_mounted_configs_land_where_the_configs_point() -> None:
    services = _compose()["services"]
    nginx_mounts = dict(v.split(":")[:2] for v in services["nginx"]["volumes"])
    include = re.search(r"include (\S+);", (NGINX_DIR / "kasir.conf").read_text())
    assert include and include.group(1) in nginx_mounts.values()
    grafana_mounts = dict(v.split(":")[:2] for v in services["grafana"]["volumes"])
    provider = yaml.safe_load(
        (PACKAGING / "grafana/provisioning/dashboards/kasir.yml").read_text()
    )["providers"][0]
    assert grafana_mounts["./grafana/dashboards"] == provider["options"]["path"]
    prometheus = services["prometheus"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    assert "./prometheus:/etc/prometheus:ro" in prometheus["volumes"]


def _dockerfile() -> list[str]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_the_dockerfile_copies_files_that_exist_and_runs_as_a_user() -> None:
    lines = _dockerfile()
    assert re.match(
        r"FROM python:\$\{PYTHON_VERSION\}-slim$", next(x for x in lines if x.startswith("FROM"))
    )
    assert "ARG KASIR_VERSION=dev" in lines
    copies = [line.split()[1:-1] for line in lines if line.startswith("COPY")]
    assert copies
    for sources in copies:
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    user = [line for line in lines if line.startswith("USER")]
    assert user == ["USER kasir"]
    health = next(line for line in lines if line.startswith("HEALTHCHECK"))
    assert "/ready" in health
    assert json.loads(next(x for x in lines if x.startswith("ENTRYPOINT")).split(None, 1)[1]) == [
        "docker-entrypoint.sh"
    ]
    assert json.loads(next(x for x in lines if x.startswith("CMD")).split(None, 1)[1]) == SERVE


def _run_entrypoint(
    tmp_path: Path, *command: str, migrate: str = "1"
) -> subprocess.CompletedProcess[str]:
    """The entry point under sh, `kasir-server serve` replaced by a recorder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    real = ROOT / ".venv" / "bin" / "kasir-server"
    fake = bin_dir / "kasir-server"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = serve ]; then\n'
        '  echo "SERVE $* migrations_on_start=$KASIR_RUN_MIGRATIONS_ON_START"'
        f" >> {tmp_path}/served\n"
        "  exit 0\n"
        "fi\n"
        f'exec {real} "$@"\n'
    )
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KASIR_")}
    env.update(
        PATH=f"{bin_dir}:{os.environ['PATH']}",
        KASIR_DATA_DIR=str(tmp_path / "data"),
        KASIR_MIGRATE_ON_START=migrate,
    )
    return run_command(["sh", str(ENTRYPOINT), *command], cwd=tmp_path, env=env)


def test_the_entrypoint_migrates_then_starts_the_server(tmp_path: Path) -> None:
    done = _run_entrypoint(tmp_path)
    assert done.returncode == 0, done.stderr
    database = tmp_path / "data" / "kasir.sqlite3"
    with sqlite3.connect(database) as conn:
        (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert version
    assert {"sync_events", "sales", "terminals"} <= tables
    served = (tmp_path / "served").read_text().split()
    assert served[: len(SERVE)] == ["SERVE", *SERVE[1:]]
    assert served[-1] == "migrations_on_start=false"


def test_the_entrypoint_runs_a_given_command_and_can_skip_migrating(tmp_path: Path) -> None:
    done = _run_entrypoint(tmp_path, "sh", "-c", "echo exec-target $0", "ran", migrate="0")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "exec-target ran"
    assert not (tmp_path / "data").exists()
    assert not (tmp_path / "served").exists()
