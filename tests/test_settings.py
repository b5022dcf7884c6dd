"""Settings read from the environment, and the deployment check."""

import os
import runpy
import stat
import subprocess
import sys
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from sweetmodels.env import env_bool, env_int, env_list, env_str
from tests.processes import REPO_ROOT, DaphneServer, PostgresServer, http_json

SETTINGS_FILE = REPO_ROOT / "sweetmodels" / "settings.py"
VARIABLES = [
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "REDIS_URL",
    "DATABASE_URL",
    "TIME_ZONE",
    "LANGUAGE_CODE",
    "SECURE_COOKIES",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "BEHIND_TLS_PROXY",
    "SQLITE_PATH",
    "SQLITE_TIMEOUT",
    "SQLITE_WRITE_QUEUE_TIMEOUT",
    "CHANNEL_LAYER_MAX_CONNECTIONS",
    "LOG_LEVEL",
]


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """An environment with none of the project's variables, and VAR_DIR in tmp."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    return monkeypatch


def load_settings() -> dict:
    """Evaluate the settings module afresh with the current environment."""
    return runpy.run_path(str(SETTINGS_FILE))


# The typed readers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        ("0", False),
        ("off", False),
        ("", False),
    ],
)
def test_env_bool_reads_common_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("SM_FLAG", raw)

    assert env_bool("SM_FLAG") is expected


def test_env_readers_return_defaults_when_unset(monkeypatch):
    monkeypatch.delenv("SM_UNSET", raising=False)

    assert env_bool("SM_UNSET", True) is True
    assert env_int("SM_UNSET", 7) == 7
    assert env_str("SM_UNSET", "x") == "x"
    assert env_list("SM_UNSET", ["a"]) == ["a"]


@pytest.mark.parametrize(
    ("reader", "raw"),
    [(env_bool, "maybe"), (env_bool, "2"), (env_int, "ten"), (env_int, "1.5")],
)
def test_env_readers_refuse_bad_values(monkeypatch, reader, raw):
    monkeypatch.setenv("SM_BAD", raw)

    with pytest.raises(ImproperlyConfigured, match="SM_BAD"):
        reader("SM_BAD", 0)


def test_env_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("SM_HOSTS", " a.example , b.example,,")

    assert env_list("SM_HOSTS", []) == ["a.example", "b.example"]


def test_env_str_reads_a_secret_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("SM_SECRET", "from-the-variable")
    monkeypatch.setenv("SM_SECRET_FILE", str(secret))

    assert env_str("SM_SECRET") == "from-a-file"


def test_env_str_refuses_an_unreadable_secret_file(monkeypatch, tmp_path):
    monkeypatch.setenv("SM_SECRET_FILE", str(tmp_path / "missing"))

    with pytest.raises(ImproperlyConfigured, match="SM_SECRET_FILE"):
        env_str("SM_SECRET")


# The settings module


def test_embedded_defaults(clean_env):
    settings = load_settings()

    assert settings["DEBUG"] is False
    assert settings["TIME_ZONE"] == "America/Bogota"
    assert settings["LANGUAGE_CODE"] == "es"
    assert settings["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert settings["CHANNEL_LAYERS"]["default"]["BACKEND"] == (
        "channels.layers.InMemoryChannelLayer"
    )


def test_redis_url_selects_redis_backends(clean_env):
    clean_env.setenv("REDIS_URL", "redis://127.0.0.1:6390/2")

    settings = load_settings()

    cache = settings["CACHES"]["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://127.0.0.1:6390/2"
    layer = settings["CHANNEL_LAYERS"]["default"]
    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert layer["CONFIG"]["hosts"][0]["address"] == "redis://127.0.0.1:6390/2"
    # redis-py's default pool of 100 runs out when many sockets close at once.
    assert layer["CONFIG"]["hosts"][0]["max_connections"] == 2000


def test_sqlite_waits_are_read(clean_env):
    defaults = load_settings()
    clean_env.setenv("SQLITE_TIMEOUT", "3")
    clean_env.setenv("SQLITE_WRITE_QUEUE_TIMEOUT", "7")

    changed = load_settings()

    assert defaults["DATABASES"]["default"]["OPTIONS"]["timeout"] == 20
    assert defaults["SQLITE_WRITE_QUEUE_TIMEOUT"] == 10
    assert changed["DATABASES"]["default"]["OPTIONS"]["timeout"] == 3
    assert changed["SQLITE_WRITE_QUEUE_TIMEOUT"] == 7


def test_api_uses_the_project_parser_and_error_handler(clean_env):
    framework = load_settings()["REST_FRAMEWORK"]

    assert framework["DEFAULT_PARSER_CLASSES"] == ["tracking.parsers.JSONParser"]
    assert framework["EXCEPTION_HANDLER"] == "tracking.errors.api_exception_handler"


def test_log_lines_have_one_handler(clean_env):
    logging_config = load_settings()["LOGGING"]

    assert logging_config["root"]["handlers"] == ["console"]
    for name in ("sweetmodels", "tracking", "dashboard", "django"):
        assert "handlers" not in logging_config["loggers"][name]


def test_database_url_selects_postgresql(clean_env):
    clean_env.setenv("DATABASE_URL", "postgres://godmode:s3cret@127.0.0.1:5433/godmode")

    database = load_settings()["DATABASES"]["default"]

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == (
        "godmode",
        "godmode",
        "s3cret",
    )
    assert (database["HOST"], database["PORT"]) == ("127.0.0.1", 5433)


def test_bad_variable_fails_at_start(clean_env):
    clean_env.setenv("DEBUG", "maybe")

    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        load_settings()


def test_secret_key_is_generated_once_outside_the_repository(clean_env, tmp_path):
    first = load_settings()["SECRET_KEY"]
    second = load_settings()["SECRET_KEY"]

    key_file = tmp_path / "var" / "secret_key"
    assert first == second == key_file.read_text()
    assert len(first) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_secret_key_may_come_from_a_file(clean_env, tmp_path):
    secret = tmp_path / "key"
    secret.write_text("k" * 60)
    clean_env.setenv("SECRET_KEY_FILE", str(secret))

    assert load_settings()["SECRET_KEY"] == "k" * 60


def test_security_variables_are_read(clean_env):
    clean_env.setenv("SECURE_COOKIES", "1")
    clean_env.setenv("SECURE_HSTS_SECONDS", "600")
    clean_env.setenv("BEHIND_TLS_PROXY", "1")
    clean_env.setenv("ALLOWED_HOSTS", "godmode.example.com")
    clean_env.setenv("CSRF_TRUSTED_ORIGINS", "https://godmode.example.com")

    settings = load_settings()

    assert settings["SESSION_COOKIE_SECURE"] and settings["CSRF_COOKIE_SECURE"]
    assert settings["SECURE_HSTS_SECONDS"] == 600
    assert settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert settings["ALLOWED_HOSTS"] == ["godmode.example.com"]
    assert settings["CSRF_TRUSTED_ORIGINS"] == ["https://godmode.example.com"]


# Checks that need a process of their own


def manage(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in VARIABLES and name != "DJANGO_SETTINGS_MODULE"
    }
    environment.update(
        VAR_DIR=str(tmp_path / "var"), SQLITE_PATH=str(tmp_path / "db.sqlite3"), **env
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


SECURE_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-deployment-secret-key-with-enough-entropy-0123456789-xyz",
    "ALLOWED_HOSTS": "godmode.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://godmode.example.com",
    "SECURE_COOKIES": "1",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
}


def test_deploy_check_passes_with_secure_settings(tmp_path):
    result = manage(
        tmp_path, "check", "--deploy", "--fail-level", "WARNING", **SECURE_ENV
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_fails_with_debug_on(tmp_path):
    result = manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **{**SECURE_ENV, "DEBUG": "1"},
    )

    assert result.returncode != 0
    assert "security.W018" in result.stderr


def test_sqlite_runs_in_wal_mode(tmp_path):
    code = (
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('PRAGMA journal_mode')\n"
        "    print(cursor.fetchone()[0])\n"
        "    cursor.execute('PRAGMA synchronous')\n"
        "    print(cursor.fetchone()[0])\n"
    )

    result = manage(tmp_path, "shell", "--no-imports", "-c", code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "1"]


@pytest.mark.skipif(
    not PostgresServer.available(),
    reason="needs root and PostgreSQL 15 under /usr/lib/postgresql/15/bin",
)
def test_migrates_and_ingests_on_postgresql(tmp_path):
    postgres = PostgresServer.start()
    try:
        server = DaphneServer.prepare(tmp_path, DATABASE_URL=postgres.url).start()
        try:
            check_ingest_on(server)
            # Everything went to PostgreSQL: the SQLite file was never made.
            assert not (tmp_path / "db.sqlite3").exists()
        finally:
            server.stop()
    finally:
        postgres.stop()


def check_ingest_on(server) -> None:
    url = f"{server.base_url}/api/tracking/telemetry"
    device = {"Authorization": f"Device {server.demo['device_key']}"}
    now = int(time.time())
    reading = {
        "room_id": "room_101",
        "platform": "chaturbate",
        "tokens_count": 1520,
        "tips_count": 12,
        "viewers_count": 48,
        "timestamp": now - 10,
    }

    assert http_json("POST", url, reading, device)[0] == 201
    assert http_json("POST", url, reading, device)[0] == 200
    # A batch that repeats a stored reading: PostgreSQL aborts a transaction on
    # a unique violation unless it is caught in a savepoint.
    newer = {**reading, "tokens_count": 1600, "timestamp": now}
    status, answer = http_json("POST", url, [reading, newer], device)
    assert status == 201
    assert (answer["created"], answer["duplicates"]) == (1, 1)
    status, latest = http_json("GET", f"{url}/room_101/chaturbate", None, device)
    assert (status, latest["tokens_count"]) == (200, 1600)
