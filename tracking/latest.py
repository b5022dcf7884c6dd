"""The newest sample of each room and platform, kept hot in the cache.

A reading is stored as the JSON object the API returns for "latest", under one
key per (room, platform), for ``LATEST_SAMPLE_TTL`` seconds. ``remember`` only
replaces a stored reading with a strictly newer one, so a sample that arrives
late (a retry after an outage) never hides the current value.

With ``REDIS_URL`` set the compare-and-set runs as one Lua script inside Redis,
which keeps it atomic across every worker process. Without Redis the cache is
per process, and a lock makes the same check atomic within that process.
"""

import json
import threading
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import cache
from redis.backoff import NoBackoff
from redis.retry import Retry

KEY_PREFIX = "sweetmodels:latest"

_REPLACE_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
  local stored = cjson.decode(current)
  if tonumber(stored['timestamp']) >= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[3]))
return 1
"""

_local_lock = threading.Lock()


def cache_key(room_id: str, platform: str) -> str:
    return f"{KEY_PREFIX}:{room_id}:{platform}"


@lru_cache(maxsize=4)
def _redis_client(url: str) -> redis.Redis:
    # Short timeouts keep a request from hanging when Redis is down or frozen,
    # so it falls back to the database within about 2 s. Only a lost
    # connection (a pooled one that Redis closed) is retried, once. The
    # client's default of ten retries with backoff, timeouts included, would
    # hold each request for many seconds.
    return redis.Redis.from_url(
        url,
        socket_timeout=2,
        socket_connect_timeout=2,
        retry=Retry(NoBackoff(), retries=1, supported_errors=(redis.ConnectionError,)),
    )


def _redis() -> redis.Redis | None:
    url = getattr(settings, "REDIS_URL", "")
    return _redis_client(url) if url else None


def remember(reading: dict) -> bool:
    """Store ``reading`` if it is newer than the stored one; return whether it was.

    ``reading`` must carry ``room_id``, ``platform`` and a numeric ``timestamp``
    in Unix seconds. Raises ``redis.RedisError`` when Redis cannot be reached.
    """
    key = cache_key(reading["room_id"], reading["platform"])
    ttl = settings.LATEST_SAMPLE_TTL
    client = _redis()

    if client is not None:
        replaced = client.eval(
            _REPLACE_IF_NEWER, 1, key, json.dumps(reading), reading["timestamp"], ttl
        )
        return bool(replaced)

    with _local_lock:
        current = cache.get(key)
        if current is not None and current["timestamp"] >= reading["timestamp"]:
            return False
        cache.set(key, reading, ttl)
        return True


def recall_many(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """Return the stored readings for the given (room_id, platform) pairs.

    Pairs with nothing stored are left out. Raises ``redis.RedisError`` when
    Redis cannot be reached.
    """
    if not pairs:
        return {}
    keys = [cache_key(room_id, platform) for room_id, platform in pairs]
    client = _redis()

    if client is not None:
        values = client.mget(keys)
        return {
            pair: json.loads(value)
            for pair, value in zip(pairs, values, strict=True)
            if value is not None
        }

    found = cache.get_many(keys)
    return {
        pair: found[key] for pair, key in zip(pairs, keys, strict=True) if key in found
    }


def forget_all() -> None:
    """Drop every stored reading; used by tests and after restoring a backup."""
    client = _redis()
    if client is not None:
        for key in client.scan_iter(f"{KEY_PREFIX}:*"):
            client.delete(key)
        return
    cache.clear()
