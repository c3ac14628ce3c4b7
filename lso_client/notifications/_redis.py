"""An inbox on Redis: listener replicas on several hosts share one inbox.

Every operation is one Lua script, so it is atomic whatever the replicas do at the
same time, and every time is Redis's own clock, so replicas need not agree on theirs.
Keys (under `prefix`): `:seen` (sorted set of recent de-duplication keys by arrival
number) and `:n` (that number), `:meta` and `:body` (hashes by entry id), `:ready`
(sorted set by due time), `:leased` (sorted set by lease end), `:dead` (sorted set by
failure time), all in milliseconds of Redis's clock (entry ids, which begin with the
time they arrived, order equal times). An entry whose lease ran out (its replica died
or hung) is made ready again by the next `claim` of any replica. The holder of each
lease is kept (`:owner`), so that a replica whose lease ran out cannot release or bury
an entry another replica claimed since. Scripts read `TIME` before writing, which
needs Redis 5 or later (scripts replicated by their effects).

Durability: the seller's 2xx follows Redis's reply to the write. Whether the event then
survives a crash of Redis itself is the server's setting: with `appendonly yes` and
`appendfsync always` it survives power loss, with `everysec` (Redis's default for the
append-only file) up to a second of events may be lost, without persistence everything
in Redis is. Run the inbox's Redis with the append-only file on.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

from ._inbox import Inbox, InboxEntry, check_window

__all__ = ["RedisInbox"]

# Milliseconds, whole: Lua formats numbers with 14 digits, too few for microseconds.
_NOW = (
    "local t = redis.call('TIME') "
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
)

_PUT = """
if ARGV[1] ~= '' then
  if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
  local n = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[1], n, ARGV[1])
  local window = tonumber(ARGV[2])
  if n > window then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', n - window) end
end
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[4], ARGV[3], ARGV[5])
if ARGV[6] ~= '' then
  redis.call('ZADD', KEYS[6], now + tonumber(ARGV[7]), ARGV[3])
  redis.call('HSET', KEYS[7], ARGV[3], ARGV[6])
else
  redis.call('ZADD', KEYS[5], now, ARGV[3])
end
return 1
"""

_CLAIM = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. now)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[1], 0, id)
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local meta = redis.call('HGET', KEYS[3], id)
  if meta then
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), id)
    redis.call('HSET', KEYS[5], id, ARGV[3])
    table.insert(out, id)
    table.insert(out, meta)
    table.insert(out, redis.call('HGET', KEYS[4], id))
  end
end
return out
"""

_RENEW = """
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[2] then
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
  end
end
return 0
"""

_ACK = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('HDEL', KEYS[5], ARGV[1])
return 0
"""

# Only an entry that is not a dead letter, and, with an owner (ARGV[4]), only while no
# other owner claimed it since.
_SETTLE_CHECK = """
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 0 then return 0 end
if redis.call('ZSCORE', KEYS[4], ARGV[1]) then return 0 end
local holder = redis.call('HGET', KEYS[5], ARGV[1])
if ARGV[4] ~= '' and holder and holder ~= ARGV[4] then return 0 end
redis.call('HDEL', KEYS[5], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
"""

_RELEASE = (
    _SETTLE_CHECK
    + """
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
return 1
"""
)

_BURY = (
    _SETTLE_CHECK
    + """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[4], now, ARGV[1])
return 1
"""
)

# Replaying needs the entry's meta rewritten (attempts back to 0): done in Python, then
# moved here only if it is still a dead letter.
_REVIVE = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[1])
return 1
"""

_PURGE = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
"""


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _redis_module() -> Any:
    from .._extras import require

    return require("redis", "redis")


class RedisInbox(Inbox):
    """An inbox on Redis at `url` (`redis://host:port/db`), or on a given `client`.

    Every listener replica of one application uses the same `url` and `prefix`;
    different applications use different prefixes. `dedupe_window`: how many recent
    de-duplication keys are remembered (0: none). Imports `redis` (the `redis` extra)
    when constructed.
    """

    blocking = True

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "lso-client:inbox",
        dedupe_window: int = 10_000,
        client: Any = None,
    ) -> None:
        redis = _redis_module()
        self._window = check_window(dedupe_window)
        self._client = client if client is not None else redis.Redis.from_url(url)
        self._owns_client = client is None
        self.prefix = prefix
        self._keys = {
            name: f"{prefix}:{name}"
            for name in ("seen", "n", "meta", "body", "ready", "leased", "dead", "owner")
        }
        self._scripts = {
            name: self._client.register_script(_NOW + source)
            for name, source in (
                ("put", _PUT),
                ("claim", _CLAIM),
                ("renew", _RENEW),
                ("ack", _ACK),
                ("release", _RELEASE),
                ("bury", _BURY),
                ("revive", _REVIVE),
                ("purge", _PURGE),
            )
        }

    def __repr__(self) -> str:
        return f"RedisInbox(prefix={self.prefix!r})"

    def _k(self, *names: str) -> list[str]:
        return [self._keys[n] for n in names]

    def _run(self, script: str, keys: list[str], args: list[Any]) -> Any:
        return self._scripts[script](keys=keys, args=args)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def put(self, entry: InboxEntry, *, owner: str | None, lease: float) -> bool:
        key = entry.dedupe_key if entry.dedupe_key is not None and self._window else ""
        return bool(
            self._run(
                "put",
                self._k("seen", "n", "meta", "body", "ready", "leased", "owner"),
                [
                    key,
                    self._window,
                    entry.id,
                    entry.meta_json(),
                    entry.body,
                    owner or "",
                    _ms(lease),
                ],
            )
        )

    def claim(self, owner: str, limit: int, lease: float) -> list[InboxEntry]:
        flat = self._run(
            "claim", self._k("ready", "leased", "meta", "body", "owner"), [limit, _ms(lease), owner]
        )
        found: list[InboxEntry] = []
        for i in range(0, len(flat), 3):
            id, meta, body = flat[i : i + 3]
            found.append(InboxEntry.from_json(id.decode(), meta, bytes(body or b"")))
        return found

    def renew(self, owner: str, ids: Collection[str], lease: float) -> None:
        if ids:
            self._run("renew", self._k("leased", "owner"), [_ms(lease), owner, *ids])

    def ack(self, id: str) -> None:
        self._run("ack", self._k("ready", "leased", "meta", "body", "owner"), [id])

    def release(self, entry: InboxEntry, delay: float, *, owner: str | None = None) -> bool:
        return bool(
            self._run(
                "release",
                self._k("ready", "leased", "meta", "dead", "owner"),
                [entry.id, entry.meta_json(), _ms(max(0.0, delay)), owner or ""],
            )
        )

    def bury(self, entry: InboxEntry, *, owner: str | None = None) -> bool:
        if entry.failed_at is None:
            entry.failed_at = time.time()
        return bool(
            self._run(
                "bury",
                self._k("ready", "leased", "meta", "dead", "owner"),
                [entry.id, entry.meta_json(), 0, owner or ""],
            )
        )

    def dead_letters(self, limit: int | None = None) -> list[InboxEntry]:
        ids = [i.decode() for i in self._client.zrange(self._keys["dead"], 0, -1)]
        ids = ids[:limit]
        if not ids:
            return []
        metas = self._client.hmget(self._keys["meta"], ids)
        bodies = self._client.hmget(self._keys["body"], ids)
        return [
            InboxEntry.from_json(id, meta, bytes(body or b""))
            for id, meta, body in zip(ids, metas, bodies, strict=True)
            if meta is not None
        ]

    def replay(self, ids: Collection[str] | None = None) -> int:
        count = 0
        for entry in self.dead_letters():
            if ids is not None and entry.id not in ids:
                continue
            entry.attempts, entry.failed_at = 0, None
            count += int(
                self._run("revive", self._k("dead", "ready", "meta"), [entry.id, entry.meta_json()])
            )
        return count

    def purge(self, ids: Collection[str] | None = None) -> int:
        chosen = (
            [i.decode() for i in self._client.zrange(self._keys["dead"], 0, -1)]
            if ids is None
            else list(ids)
        )
        return sum(int(self._run("purge", self._k("dead", "meta", "body"), [id])) for id in chosen)

    def pending(self) -> int:
        return int(self._client.zcard(self._keys["ready"])) + int(
            self._client.zcard(self._keys["leased"])
        )
