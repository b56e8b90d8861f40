"""A 3-node MariaDB Galera cluster on loopback, started from the installed packages.

Each node is a ``mariadbd`` of its own (``--no-defaults``: the system server's config,
data dir, port and socket are never read or touched) with its own data dir made by
``mariadb-install-db`` under one temporary folder, its own SQL port, socket, pid file,
Galera group port (``base_port``), IST port and rsync SST port, all on 127.0.0.1 and all
picked free at start. The first node bootstraps the cluster (``--wsrep-new-cluster``);
the other two join it and receive a full state transfer (rsync). Every wait is bounded;
:meth:`GaleraCluster.stop` sends SIGTERM, then SIGKILL, to each node's process group and
removes the folder.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import ExitStack, closing, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pymysql

MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
PROVIDER = "/usr/lib/galera/libgalera_smm.so"
CLUSTER_NAME = "kasir_test_cluster"


def _run_as() -> str | None:
    """The account the nodes run as: ``mysql`` when we are root, else ourselves.

    Not root itself: as root the joiner's rsync SST daemon drops to ``nobody`` and cannot
    write the data dir; as ``mysql`` (what the packaged server uses) everything matches.
    """
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("mysql")
    except KeyError:
        return "root"
    return "mysql"


def missing_tools() -> list[str]:
    """What the cluster needs and this machine lacks (empty when it can run)."""
    lacking = [
        name
        for name, path in (
            ("mariadbd", MARIADBD),
            ("mariadb-install-db", INSTALL_DB),
            ("galera-4", PROVIDER),
        )
        if not os.path.exists(path)
    ]
    if shutil.which("rsync") is None:
        lacking.append("rsync")
    return lacking


def _free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that nobody listens on right now."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


@dataclass
class Node:
    """One mariadbd of the cluster: its folder, ports and (while running) its process."""

    index: int
    root: Path
    port: int
    galera_port: int
    ist_port: int
    sst_port: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    frozen: bool = False

    @property
    def name(self) -> str:
        """node1, node2, node3."""
        return f"node{self.index + 1}"

    @property
    def datadir(self) -> Path:
        """The node's data dir."""
        return self.root / "data"

    @property
    def socket_path(self) -> Path:
        """The node's unix socket."""
        return self.root / "mysqld.sock"

    @property
    def error_log(self) -> Path:
        """The node's error log (read it when the node misbehaves)."""
        return self.root / "error.log"

    def url(self, database: str) -> str:
        """A SQLAlchemy URL of ``database`` on this node."""
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str | None = None, timeout: int = 5) -> pymysql.Connection:
        """A pymysql connection as root over TCP (autocommit)."""
        return pymysql.connect(
            host="127.0.0.1",
            port=self.port,
            user="root",
            password="",
            database=database,
            connect_timeout=timeout,
            read_timeout=30,
            write_timeout=30,
            autocommit=True,
        )

    def status(self) -> dict[str, str]:
        """The node's ``wsrep_%`` status variables (empty when it does not answer)."""
        try:
            with closing(self.connect(timeout=2)) as conn, conn.cursor() as cur:
                cur.execute("SHOW GLOBAL STATUS LIKE 'wsrep_%'")
                return {str(k): str(v) for k, v in cur.fetchall()}
        except pymysql.MySQLError:
            return {}

    @property
    def running(self) -> bool:
        """True while the node's process lives (a stopped/frozen one counts as running)."""
        return self.process is not None and self.process.poll() is None

    def tail_log(self, lines: int = 30) -> str:
        """The last lines of the node's error log."""
        try:
            text = self.error_log.read_text(errors="replace")
        except OSError:
            return "(no error log)"
        return "\n".join(text.splitlines()[-lines:])


class GaleraCluster:
    """Three Galera nodes on loopback; :meth:`start` and :meth:`stop` bracket their life."""

    def __init__(self, size: int = 3, base: Path | None = None) -> None:
        """Plan ``size`` nodes under ``base`` (a fresh temporary folder by default)."""
        self.size = size
        self.base = Path(base or tempfile.mkdtemp(prefix="kasir-galera-"))
        ports = _free_ports(4 * size)
        self.user = _run_as()
        self.nodes = [
            Node(
                index=i,
                root=self.base / f"node{i + 1}",
                port=ports[4 * i],
                galera_port=ports[4 * i + 1],
                ist_port=ports[4 * i + 2],
                sst_port=ports[4 * i + 3],
            )
            for i in range(size)
        ]
        self.timings: dict[str, float] = {}

    @property
    def cluster_address(self) -> str:
        """``gcomm://`` with every node's group port."""
        return "gcomm://" + ",".join(f"127.0.0.1:{n.galera_port}" for n in self.nodes)

    # -- life cycle --------------------------------------------------------------------

    def start(self, timeout: float = 90.0) -> None:
        """Install, bootstrap node 1, join the others; return once all are Synced."""
        began = time.monotonic()
        deadline = began + timeout
        # One mariadb-install-db, copied: the joiners' data is replaced by SST anyway.
        self._install(self.nodes[0])
        for node in self.nodes[1:]:
            shutil.copytree(self.nodes[0].datadir, node.datadir, symlinks=True)
            if self.user and self.user != "root":
                subprocess.run(["chown", "-R", f"{self.user}:{self.user}", node.root], check=True)
        self.timings["install_s"] = time.monotonic() - began
        first, *others = self.nodes
        self.start_node(first, bootstrap=True)
        self.wait_synced([first], deadline=deadline, cluster_size=1)
        for node in others:
            self.start_node(node)
        self.wait_synced(self.nodes, deadline=deadline)
        self.timings["start_s"] = time.monotonic() - began

    def stop(self) -> None:
        """Stop every node (SIGTERM, then SIGKILL) and remove the folder."""
        try:
            for node in self.nodes:
                self._signal(node, signal.SIGCONT)
                self._signal(node, signal.SIGTERM)
            for node in self.nodes:
                self._reap(node, grace=20.0)
        finally:
            if not os.environ.get("KASIR_GALERA_KEEP"):
                shutil.rmtree(self.base, ignore_errors=True)

    def _user_args(self) -> list[str]:
        return [f"--user={self.user}"] if self.user else []

    def _install(self, node: Node) -> None:
        node.root.mkdir(parents=True, exist_ok=True)
        if self.user and self.user != "root":
            self.base.chmod(0o755)
            shutil.chown(node.root, self.user, self.user)
        result = subprocess.run(
            [
                INSTALL_DB,
                "--no-defaults",
                f"--datadir={node.datadir}",
                *self._user_args(),
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"mariadb-install-db failed for {node.name}: "
                f"{result.stderr.decode(errors='replace')[-2000:]}"
            )

    def _argv(self, node: Node, *, bootstrap: bool) -> list[str]:
        provider_options = ";".join(
            [
                f"base_port={node.galera_port}",
                f"gmcast.listen_addr=tcp://127.0.0.1:{node.galera_port}",
                f"ist.recv_addr=127.0.0.1:{node.ist_port}",
                "gcache.size=32M",
                # A killed peer is noticed in seconds, not the default ~minute.
                "evs.suspect_timeout=PT3S",
                "evs.inactive_timeout=PT6S",
                "evs.keepalive_period=PT0.5S",
                "evs.inactive_check_period=PT0.5S",
            ]
        )
        argv = [
            MARIADBD,
            "--no-defaults",
            *self._user_args(),
            f"--datadir={node.datadir}",
            f"--port={node.port}",
            "--bind-address=127.0.0.1",
            f"--socket={node.socket_path}",
            f"--pid-file={node.root / 'mysqld.pid'}",
            f"--log-error={node.error_log}",
            f"--tmpdir={node.root}",
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            "--innodb-buffer-pool-size=64M",
            "--innodb-log-file-size=48M",
            "--innodb-flush-log-at-trx-commit=2",
            "--performance-schema=OFF",
            "--max-connections=300",
            "--binlog-format=ROW",
            "--default-storage-engine=InnoDB",
            "--innodb-autoinc-lock-mode=2",
            "--wsrep-on=ON",
            f"--wsrep-provider={PROVIDER}",
            f"--wsrep-cluster-name={CLUSTER_NAME}",
            f"--wsrep-cluster-address={self.cluster_address}",
            f"--wsrep-node-name={node.name}",
            "--wsrep-node-address=127.0.0.1",
            f"--wsrep-node-incoming-address=127.0.0.1:{node.port}",
            f"--wsrep-sst-receive-address=127.0.0.1:{node.sst_port}",
            "--wsrep-sst-method=rsync",
            f"--wsrep-provider-options={provider_options}",
            "--wsrep-slave-threads=2",
        ]
        if bootstrap:
            argv.append("--wsrep-new-cluster")
        return argv

    def start_node(self, node: Node, *, bootstrap: bool = False) -> None:
        """Start ``node`` (in a process group of its own); do not wait for it."""
        if node.running:
            raise RuntimeError(f"{node.name} is already running")
        with open(node.root / "stdout.log", "ab") as out:
            node.process = subprocess.Popen(
                self._argv(node, bootstrap=bootstrap),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, "PATH": f"/usr/sbin:/usr/bin:/sbin:/bin:{os.environ['PATH']}"},
            )

    def wait_synced(
        self, nodes: list[Node], *, deadline: float, cluster_size: int | None = None
    ) -> None:
        """Wait until each of ``nodes`` is Synced in a primary component of ``cluster_size``."""
        want = str(cluster_size or self.size)
        while True:
            states = {}
            for node in nodes:
                if not node.running:
                    code = node.process.returncode if node.process else None
                    raise RuntimeError(
                        f"{node.name} exited ({code}) while joining:\n{node.tail_log()}"
                    )
                status = node.status()
                states[node.name] = (
                    status.get("wsrep_cluster_size"),
                    status.get("wsrep_local_state_comment"),
                    status.get("wsrep_cluster_status"),
                )
            if all(s == (want, "Synced", "Primary") for s in states.values()):
                return
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {n.name}\n{n.tail_log()}" for n in nodes)
                raise RuntimeError(f"cluster not Synced in time: {states}\n{logs}")
            time.sleep(0.5)

    def kill(self, node: Node) -> None:
        """SIGKILL ``node`` (a crash: no clean shutdown, no goodbye to the group)."""
        self._signal(node, signal.SIGKILL)
        self._reap(node, grace=10.0)

    def freeze(self, node: Node) -> None:
        """SIGSTOP ``node``: its sockets stay open but nothing answers."""
        self._signal(node, signal.SIGSTOP)
        node.frozen = True

    def thaw(self, node: Node) -> None:
        """SIGCONT a frozen ``node``."""
        self._signal(node, signal.SIGCONT)
        node.frozen = False

    def restart(self, node: Node, timeout: float = 90.0) -> None:
        """Start a stopped ``node`` again; return once every node is Synced at full size."""
        self.start_node(node)
        self.wait_synced(self.nodes, deadline=time.monotonic() + timeout)

    @staticmethod
    def _signal(node: Node, sig: signal.Signals) -> None:
        if node.process is None or node.process.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(node.process.pid, sig)

    def _reap(self, node: Node, *, grace: float) -> None:
        if node.process is None:
            return
        try:
            node.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self._signal(node, signal.SIGKILL)
            node.process.wait(timeout=10)
        # Helpers the node started (the rsync SST daemon) share its process group.
        with suppress(ProcessLookupError):
            os.killpg(node.process.pid, signal.SIGKILL)
        node.process = None
        node.frozen = False
        # A crash leaves the pid file and socket; the next start must not trip over them.
        for leftover in (node.root / "mysqld.pid", node.socket_path):
            leftover.unlink(missing_ok=True)
