"""Django settings, read from the environment.

With nothing set, the project runs in its embedded mode: SQLite in WAL mode,
the in-memory channel layer and the local-memory cache, in one daphne process.
``REDIS_URL`` switches the channel layer and the cache to Redis, and
``DATABASE_URL`` switches the database (PostgreSQL in production). With both
set, several ASGI workers share one state. ``.env.example`` lists every variable.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from sweetmodels.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))


def _read_or_create_secret_key() -> str:
    """Return SECRET_KEY, or a random key kept in VAR_DIR for a fresh checkout.

    The generated key lives outside the repository, so a checkout works with no
    set-up and no secret is ever committed. Processes on other machines must set
    SECRET_KEY themselves so that sessions and tokens stay valid across them.
    """
    configured = env_str("SECRET_KEY")
    if configured:
        return configured

    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.touch(mode=0o600)
    key_file.write_text(key)
    return key


SECRET_KEY = _read_or_create_secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Static files are served by the ASGI app itself in the embedded mode; behind a
# reverse proxy set SERVE_STATIC=0 and let the proxy serve STATIC_ROOT.
SERVE_STATIC = env_bool("SERVE_STATIC", True)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "tracking",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tracking.middleware.ChunkedBodyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sweetmodels.urls"
ASGI_APPLICATION = "sweetmodels.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite in WAL mode lets the dashboard read while telemetry is written. The
# IMMEDIATE transactions take the write lock up front, and SQLITE_TIMEOUT is
# how many seconds a writer waits for another connection's lock before
# "database is locked". Ingest requests of this process first queue in order
# on tracking.write_lock, for at most SQLITE_WRITE_QUEUE_TIMEOUT seconds, and
# then respond with 503. The default of 10 s stays under the extension's 15 s
# request timeout, so the extension gets the 503 and retries.
SQLITE_TIMEOUT = env_int("SQLITE_TIMEOUT", 20)
SQLITE_WRITE_QUEUE_TIMEOUT = env_int("SQLITE_WRITE_QUEUE_TIMEOUT", 10)
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": SQLITE_TIMEOUT,
        },
    }
}
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES["default"] = dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60)
    )

REDIS_URL = env_str("REDIS_URL")
CHANNEL_LAYER_MAX_CONNECTIONS = env_int("CHANNEL_LAYER_MAX_CONNECTIONS", 2000)
if REDIS_URL:
    # Short connect and read timeouts keep a request from hanging on a Redis
    # that stopped responding. The channel layer gets no read timeout because
    # its receive blocks on Redis by design. Its pool (redis-py's default is
    # 100 connections per process) must cover every socket that joins or
    # leaves a group at the same moment, or the rest fail with "Too many
    # connections". Connections are opened only when needed, so a large cap
    # costs nothing while idle.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "sweetmodels",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_connect_timeout": 2,
                        "max_connections": CHANNEL_LAYER_MAX_CONNECTIONS,
                    }
                ],
                "prefix": "sweetmodels",
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "sweetmodels",
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Seconds the newest sample of a room and platform stays in the cache.
LATEST_SAMPLE_TTL = env_int("LATEST_SAMPLE_TTL", 3600)

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:god_mode"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "es")
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["sweetmodels.formats"]
TIME_ZONE = env_str("TIME_ZONE", "America/Bogota")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["tracking.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "tracking.errors.api_exception_handler",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 1)),
    "UPDATE_LAST_LOGIN": False,
}

# Lifetime of the access token that the God Mode page fetches with its session
# cookie; the page renews it before it expires without reconnecting.
DASHBOARD_TOKEN_SECONDS = env_int("DASHBOARD_TOKEN_SECONDS", 300)

SPECTACULAR_SETTINGS = {
    "TITLE": "Sweet Models God Mode API",
    "DESCRIPTION": "Telemetry ingest for room devices and live production data.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Studio networks are often offline from the internet; serve Swagger UI
    # from this server instead of a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# One handler, on the root logger, writes every line once. Daphne adds its own
# root handler at start-up, and this configuration, applied after it, replaces
# it. A second handler on a project logger would print each line twice.
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "sweetmodels": {"level": LOG_LEVEL},
        "tracking": {"level": LOG_LEVEL},
        "dashboard": {"level": LOG_LEVEL},
        "django": {"level": "WARNING"},
    },
}
