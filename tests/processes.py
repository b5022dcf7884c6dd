"""Real services the tests start: Redis and daphne, on free loopback ports."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"process exited with {process.returncode} before listening"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on port {port} within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return self.url_for(0)

    def url_for(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    @classmethod
    def start(cls, workdir: Path) -> "RedisServer":
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is missing; run `make test` to install it")
        port = free_port()
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(port, process)
        return cls(port=port, process=process)

    def stop(self) -> None:
        stop(self.process)


@dataclass
class DaphneServer:
    """A daphne process serving the project on its own SQLite file."""

    port: int
    env: dict
    workdir: Path
    process: subprocess.Popen | None = None
    demo: dict = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/dashboard/"

    @classmethod
    def prepare(cls, workdir: Path, redis_url: str = "", **extra_env) -> "DaphneServer":
        env = {
            **os.environ,
            "SQLITE_PATH": str(workdir / "db.sqlite3"),
            "VAR_DIR": str(workdir / "var"),
            "SECRET_KEY": "test-only-secret-key-for-the-daphne-server",
            "REDIS_URL": redis_url,
            "LOG_LEVEL": "INFO",
            **extra_env,
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        server = cls(port=free_port(), env=env, workdir=workdir)
        server.manage("migrate", "--no-input", "-v", "0")
        output = server.manage("seed_demo", "--password", DEMO_PASSWORD)
        server.demo = parse_seed_output(output)
        return server

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def start(self) -> "DaphneServer":
        log = open(self.workdir / "daphne.log", "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "sweetmodels.asgi:application",
            ],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)

    def log_text(self) -> str:
        return (self.workdir / "daphne.log").read_text(errors="replace")


DEMO_PASSWORD = "demo-password-for-tests"


def parse_seed_output(output: str) -> dict:
    key = re.search(r"^Device key \([^)]*\): (\S+)$", output, re.MULTILINE)
    if key is None:
        raise RuntimeError(f"seed_demo printed no device key:\n{output}")
    return {
        "device_key": key.group(1),
        "staff": ("admin", DEMO_PASSWORD),
        "manager": ("manager", DEMO_PASSWORD),
        "rooms": ["room_101", "room_102", "room_103"],
    }


POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass
class PostgresServer:
    """A throwaway PostgreSQL 15 cluster on a free loopback port.

    ``initdb`` refuses to run as root, so the cluster belongs to the
    ``postgres`` system user and lives in a folder of its own under /tmp.
    """

    port: int
    datadir: Path

    @property
    def url(self) -> str:
        return f"postgres://godmode@127.0.0.1:{self.port}/godmode"

    @staticmethod
    def available() -> bool:
        return (
            (POSTGRES_BIN / "initdb").exists()
            and os.geteuid() == 0
            and shutil.which("runuser") is not None
        )

    @classmethod
    def start(cls) -> "PostgresServer":
        root = Path(tempfile.mkdtemp(prefix="sweetmodels-pg-"))
        shutil.chown(root, "postgres", "postgres")
        server = cls(port=free_port(), datadir=root / "data")
        server._as_postgres(
            "initdb", "-D", str(server.datadir), "-A", "trust", "-U", "godmode"
        )
        server._as_postgres(
            "pg_ctl",
            "-D",
            str(server.datadir),
            "-l",
            str(root / "server.log"),
            "-w",
            "-o",
            f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )
        server._as_postgres(
            "createdb",
            "-h",
            "127.0.0.1",
            "-p",
            str(server.port),
            "-U",
            "godmode",
            "godmode",
        )
        return server

    def stop(self) -> None:
        try:
            self._as_postgres("pg_ctl", "-D", str(self.datadir), "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.datadir.parent, ignore_errors=True)

    def _as_postgres(self, program: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(POSTGRES_BIN / program), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )


# Loopback only: ignore any proxy set in the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_json(
    method: str, url: str, body=None, headers: dict | None = None
) -> tuple[int, dict]:
    """Send a JSON request to a test server; return the status and JSON body."""
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method=method,
    )
    try:
        with _opener.open(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
