"""A local Neo4j Community server from Maven Central jars: fetch, configure, start, stop."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, ServiceUnavailable

from graphdb.driver import Neo4jConnection
from graphdb.local.initial_password import InitialPasswordError, set_initial_password
from graphdb.local.private_files import private_dir, write_private

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RUNTIME_DIR = PROJECT_ROOT / ".neo4j"
LIB_DIR = RUNTIME_DIR / "lib"
POM = Path(__file__).resolve().parent / "neo4j_pom.xml"
NEO4J_JAR = "neo4j-5.26.30.jar"
ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
PID_FILE = "identity-neo4j.pid"

# The flags the `neo4j` launcher script would add; starting the entry point directly skips it.
JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "-XX:+UnlockDiagnosticVMOptions",
    "-XX:+DebugNonSafepoints",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
)
# On up to 4 cores the JVM gives its optimising compiler one thread (two on 4): a fresh Neo4j's
# backlog of hot methods then drains one at a time for about a minute, and the last of them
# compile under the first live traffic. Three threads drain the bulk of it by 32 s instead of 42;
# the first 10 s after the warm-up ran at 88 to 109% of the warm rate, against 66 to 92%
# (docs/PERFORMANCE.md, "Cold start"). Larger machines get more threads by default and keep them.
SMALL_MACHINE_CORES = 4
SMALL_MACHINE_JVM_FLAGS = ("-XX:CICompilerCount=4",)


def compiler_flags(cores: int | None) -> tuple[str, ...]:
    return SMALL_MACHINE_JVM_FLAGS if (cores or 1) <= SMALL_MACHINE_CORES else ()


class LocalNeo4jError(RuntimeError):
    """The local Neo4j could not be fetched, started or reached; the message says what to do."""


@dataclass(frozen=True)
class LocalNeo4jConfig:
    home: Path
    bolt_port: int = 7687
    http_port: int = 7474
    heap: str = "1g"
    page_cache: str = "512m"
    password: str | None = None

    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/"

    @property
    def password_file(self) -> Path:
        return self.home / "password"


def fetch_jars(lib_dir: Path = LIB_DIR) -> None:
    """Download Neo4j and Neo4j Browser once; later calls find the jars and use no network."""
    if (lib_dir / NEO4J_JAR).exists():
        return
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalNeo4jError(
            "Maven (mvn) is not installed; it is needed once to fetch Neo4j jars."
        )
    # Download into a scratch folder and rename, so an interrupted fetch never looks complete.
    partial = lib_dir.with_name(lib_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    print(f"Fetching Neo4j Community and Neo4j Browser from Maven Central into {lib_dir} ...")
    command = [
        mvn, "-q", "-B", "-f", str(POM),
        "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies",
        "-DincludeScope=runtime", f"-DoutputDirectory={partial}",
    ]  # fmt: skip
    completed = subprocess.run(command, check=False)  # noqa: S603
    if completed.returncode != 0 or not (partial / NEO4J_JAR).exists():
        raise LocalNeo4jError(f"Fetching Neo4j jars failed: {' '.join(command)}")
    shutil.rmtree(lib_dir, ignore_errors=True)
    partial.rename(lib_dir)


def _neo4j_conf(config: LocalNeo4jConfig) -> str:
    # Advertised addresses matter: discovery tells Neo4j Browser where Bolt is.
    return "\n".join(
        [
            "server.default_listen_address=127.0.0.1",
            "server.default_advertised_address=127.0.0.1",
            "server.bolt.enabled=true",
            f"server.bolt.listen_address=127.0.0.1:{config.bolt_port}",
            f"server.bolt.advertised_address=127.0.0.1:{config.bolt_port}",
            "server.http.enabled=true",
            f"server.http.listen_address=127.0.0.1:{config.http_port}",
            f"server.http.advertised_address=127.0.0.1:{config.http_port}",
            "server.https.enabled=false",
            "dbms.security.auth_enabled=true",
            "server.directories.data=data",
            "server.directories.logs=logs",
            f"server.memory.pagecache.size={config.page_cache}",
            "db.transaction.timeout=60s",
            "dbms.usage_report.enabled=false",
            "client.allow_telemetry=false",
            # Neo4j Browser may fetch `:play` guides and `:style` sheets from these hosts only:
            # the identity service on this machine serves its cluster guide and style sheet.
            "browser.remote_content_hostname_whitelist=localhost,127.0.0.1",
            "",
        ]
    )


def _admin_env(home: Path) -> dict[str, str]:
    return {**os.environ, "NEO4J_HOME": str(home), "NEO4J_CONF": str(home / "conf")}


def prepare_home(config: LocalNeo4jConfig, lib_dir: Path = LIB_DIR) -> str:
    """Write neo4j.conf; on a new home set the initial password. Returns the password to use."""
    # The home holds the password file, the database files and the logs: the owner's alone,
    # including a home made by an older version with the default umask.
    private_dir(config.home)
    (config.home / "conf").mkdir(parents=True, exist_ok=True)
    (config.home / "conf" / "neo4j.conf").write_text(_neo4j_conf(config))
    if config.password_file.exists():
        return config.password_file.read_text().strip()
    if (config.home / "data").exists():
        raise LocalNeo4jError(
            f"{config.home} holds a database but no password file; remove the folder to start anew."
        )
    password = config.password or secrets.token_hex(16)
    try:
        set_initial_password(config.home, password, lib_dir, _admin_env(config.home))
    except InitialPasswordError as error:
        raise LocalNeo4jError(str(error)) from None
    write_private(config.password_file, password + "\n")
    return password


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As Neo4j binds: connections of a killed server linger in TIME_WAIT, and do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _is_our_server(pid: int, home: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return ENTRY_POINT.encode() in cmdline and f"--home-dir={home}".encode() in cmdline


class LocalNeo4j:
    """One Neo4j server process that this object starts and stops by its PID."""

    def __init__(self, config: LocalNeo4jConfig, lib_dir: Path = LIB_DIR) -> None:
        self.config = config
        self.lib_dir = lib_dir
        self.password = ""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def connection(self) -> Neo4jConnection:
        """How to reach this server once started."""
        return Neo4jConnection(self.config.bolt_uri, "neo4j", self.password)

    @property
    def pid_file(self) -> Path:
        return self.config.home / "run" / PID_FILE

    @property
    def console_log(self) -> Path:
        return self.config.home / "logs" / "console.log"

    def _check_previous_run(self) -> None:
        if not self.pid_file.exists():
            return
        pid = int(self.pid_file.read_text().strip() or 0)
        if pid and _is_our_server(pid, self.config.home):
            raise LocalNeo4jError(
                f"A Neo4j started from {self.config.home} is still running (PID {pid}). "
                f"Stop it with: identity neo4j stop (NEO4J_HOME_DIR={self.config.home})"
            )
        print(f"Removing stale PID file {self.pid_file} (PID {pid} is not running).")
        self.pid_file.unlink()

    def start(self, ready_timeout: float = 120.0) -> None:
        fetch_jars(self.lib_dir)
        self._check_previous_run()
        for name, port in (("NEO4J_BOLT_PORT", self.config.bolt_port),
                           ("NEO4J_HTTP_PORT", self.config.http_port)):  # fmt: skip
            if not _port_is_free(port):
                raise LocalNeo4jError(
                    f"Port {port} on 127.0.0.1 is already in use; stop what holds it or set {name}."
                )
        self.password = prepare_home(self.config, self.lib_dir)
        for folder in ("run", "logs"):
            (self.config.home / folder).mkdir(parents=True, exist_ok=True)
        command = [
            "java", *JVM_FLAGS, *compiler_flags(os.cpu_count()),
            "-Xms512m", f"-Xmx{self.config.heap}",
            "-cp", f"{self.lib_dir}/*", ENTRY_POINT,
            f"--home-dir={self.config.home}", f"--config-dir={self.config.home / 'conf'}",
            "--console-mode",
        ]  # fmt: skip
        with self.console_log.open("ab") as log:
            # A session of its own: Ctrl-C reaches the service, which then stops Neo4j in order.
            self._process = subprocess.Popen(  # noqa: S603
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.pid_file.write_text(f"{self._process.pid}\n")
        try:
            self._wait_until_ready(ready_timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with GraphDatabase.driver(
            self.config.bolt_uri, auth=("neo4j", self.password), connection_timeout=2
        ) as driver:
            while True:
                if self._process is not None and self._process.poll() is not None:
                    raise LocalNeo4jError(
                        f"Neo4j exited with code {self._process.returncode} while starting; "
                        f"last log lines:\n{self._log_tail()}"
                    )
                try:
                    driver.verify_connectivity()
                    # Bolt comes up a moment before HTTP, which serves Neo4j Browser.
                    with urllib.request.urlopen(self.config.http_url, timeout=2):  # noqa: S310
                        pass
                except (ServiceUnavailable, AuthError, OSError):
                    if time.monotonic() > deadline:
                        raise LocalNeo4jError(
                            f"Neo4j did not answer on {self.config.bolt_uri} "
                            f"within {timeout:.0f}s; "
                            f"last log lines:\n{self._log_tail()}"
                        ) from None
                    time.sleep(0.25)
                else:
                    return

    def _log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.console_log.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def stop(self, timeout: float = 60.0) -> None:
        if self._process is None:
            return
        stop_pid(self._process.pid, timeout)
        self._process.wait()
        self._process = None
        self.pid_file.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL, as a crash would; the next start recovers the database."""
        if self._process is None:
            return
        self._process.kill()
        self._process.wait()
        self._process = None
        self.pid_file.unlink(missing_ok=True)

    def __enter__(self) -> LocalNeo4j:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def stop_pid(pid: int, timeout: float) -> None:
    """SIGTERM makes Neo4j shut down cleanly; SIGKILL only if it does not within the timeout."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            if _has_exited(pid):
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


def _has_exited(pid: int) -> bool:
    # A server started by an earlier `identity neo4j start` is not our child: once it exits it
    # stays a zombie until its new parent reaps it, and some init processes never do.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def running_pid(home: Path) -> int | None:
    """The PID of the server started from this home, if it is still running."""
    pid_file = home / "run" / PID_FILE
    with contextlib.suppress(OSError, ValueError):
        pid = int(pid_file.read_text().strip())
        if _is_our_server(pid, home.resolve()):
            return pid
    return None


def stop_running(home: Path, timeout: float = 60.0) -> int | None:
    """Stops the server started from this home, by its PID; returns that PID, or None."""
    pid = running_pid(home)
    if pid is not None:
        stop_pid(pid, timeout)
    (home / "run" / PID_FILE).unlink(missing_ok=True)
    return pid


def configured_ports(home: Path) -> tuple[int, int] | None:
    """(Bolt, HTTP) ports from the home's neo4j.conf: those the server runs on, whatever the
    environment of the process asking says."""
    ports: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in (home / "conf" / "neo4j.conf").read_text().splitlines():
            key, _, value = line.partition("=")
            if key in ("server.bolt.listen_address", "server.http.listen_address"):
                ports[key] = int(value.rpartition(":")[2])
    if len(ports) != 2:
        return None
    return ports["server.bolt.listen_address"], ports["server.http.listen_address"]
