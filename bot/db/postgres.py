"""PostgreSQL, the second backend (design §13): the same queries, the same dataclasses.

The storage functions are written once, with SQLite's ``?`` and ``:name`` parameters;
:func:`translate` turns them into PostgreSQL's ``$1``, ``$2``, … (outside quotes and
comments). asyncpg (chosen by measuring it on this project's queries: see the design) is
strict about parameter types where SQLite is not, so each statement's parameter types are
asked of the server once and the values converted to them (a user id given as text, a
chat id given as a number).

Writes are serialised as on SQLite: one writer connection per process, and in every
transaction a transaction-scoped advisory lock, so that several instances sharing the
database write one at a time and each transaction reads what the one before it wrote.
Reads go to a pool and never wait for the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from importlib import resources
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.db.database import (
    Batch,
    Database,
    GroupCommit,
    Params,
    Row,
    Script,
    Turns,
    Tx,
    Writes,
    drive,
)
from bot.db.roundfile import RoundFile
from bot.errors import DatabaseError

log = logging.getLogger(__name__)

# what a connection the server dropped raises (a read is then made on another): its own
# errors, the socket's, and asyncpg's confusion when the drop arrives mid-read ("cannot
# switch to state …; another operation is in progress", seen in test_instances)
DROPPED = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InternalClientError,
    ConnectionError,
)

# advisory lock keys (one 64-bit space per database): "evalbot" and what each guards
WRITE_LOCK = 0x6576616C_626F7401  # every write transaction
MIGRATE_LOCK = 0x6576616C_626F7402  # migrations, at start
CLOSE_SECONDS = 3.0  # at a stop, what a connection may take to close before it is cut

PG_MIGRATION_RE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
PG_FIRST = 11  # PostgreSQL's first schema version (its 0011 creates the whole schema)


def hide_password(url: str) -> str:
    """The URL as it may be shown: without a password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


_TOKEN = re.compile(
    r"""'(?:[^']|'')*'      # a string
      | "(?:[^"]|"")*"      # a quoted name
      | --[^\n]*            # a comment
      | ::                  # a cast, not a parameter
      | \?                  # a positional parameter
      | :[A-Za-z_]\w*       # a named parameter
    """,
    re.VERBOSE,
)


_translated: dict[str, tuple[str, tuple[str, ...] | None]] = {}


def translate(sql: str) -> tuple[str, tuple[str, ...] | None]:
    """SQL with ``?`` or ``:name`` parameters as PostgreSQL's ``$n``; with the names in
    order when they are named (a name used twice is one parameter)."""
    found = _translated.get(sql)
    if found is not None:
        return found
    positional = 0
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        nonlocal positional
        token = match.group(0)
        if token == "?":
            positional += 1
            return f"${positional}"
        if token.startswith(":") and token != "::":
            name = token[1:]
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"
        return token

    text = _TOKEN.sub(replace, sql)
    if positional and names:
        raise DatabaseError("a statement mixes ? and :name parameters")
    found = (text, tuple(names) if names else None)
    if len(_translated) < 4096:  # statements with lists of ? are many; keep the first ones
        _translated[sql] = found
    return found


def convert(value: Any, kind: str) -> Any:
    """A value as the parameter's type wants it (SQLite takes anything anywhere)."""
    if value is None:
        return None
    if kind in ("int2", "int4", "int8"):
        if isinstance(value, str | bool | Decimal):
            return int(value)
    elif kind in ("text", "varchar", "bpchar", "name"):
        if isinstance(value, str):
            # PostgreSQL's text cannot hold U+0000: kept as ␀, as every export shows it
            return value.replace("\x00", "\u2400") if "\x00" in value else value
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return str(value)
    elif kind == "bool":
        if isinstance(value, int):
            return bool(value)
    elif kind == "float8":
        if isinstance(value, int | Decimal | str):
            return float(value)
    elif kind == "bytea" and isinstance(value, memoryview | bytearray):
        return bytes(value)
    return value


class _Types:
    """Each statement's parameter types, asked of the server once (most recent 2,048)."""

    def __init__(self) -> None:
        self._known: OrderedDict[str, tuple[str, ...]] = OrderedDict()

    async def of(self, conn: asyncpg.Connection, text: str) -> tuple[str, ...]:
        kinds = self._known.get(text)
        if kinds is None:
            statement = await conn.prepare(text)
            kinds = tuple(t.name for t in statement.get_parameters())
            self._known[text] = kinds
            if len(self._known) > 2048:
                self._known.popitem(last=False)
        return kinds

    async def bind(
        self, conn: asyncpg.Connection, sql: str, params: Params
    ) -> tuple[str, list[Any]]:
        text, names = translate(sql)
        if names is not None:
            assert isinstance(params, dict), "named parameters take a dict"
            values = [params[n] for n in names]
        else:
            values = list(params.values()) if isinstance(params, dict) else list(params)
        if not values:
            return text, values
        kinds = await self.of(conn, text)
        return text, [convert(v, k) for v, k in zip(values, kinds, strict=True)]


def _rowcount(status: bytes | str | None) -> int:
    """How many rows a command changed, from its tag ("UPDATE 3", "INSERT 0 1")."""
    if not status:
        return 0
    last = (status.decode() if isinstance(status, bytes) else status).rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PgCursor:
    """What :meth:`PgTx.execute` returns: the rows a statement returned, and its count."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self._rowcount = rowcount

    @property
    def rowcount(self) -> int:
        return self._rowcount

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def close(self) -> None:
        self._rows = []


class PgTx:
    """The writer inside a transaction, with aiosqlite's calls (bot.db.database.Tx)."""

    def __init__(self, conn: asyncpg.Connection, types: _Types) -> None:
        self._conn = conn
        self._types = types

    async def execute(self, sql: str, parameters: Params = (), /) -> PgCursor:
        text, args = await self._types.bind(self._conn, sql, parameters)
        # asyncpg's public calls give the rows or the command's tag, not both; this one
        # (its fetch and execute share it) gives both in one round trip
        rows, status, _ = await self._conn._execute(text, args, 0, None, return_status=True)
        return PgCursor(list(rows), _rowcount(status))

    async def executemany(self, sql: str, parameters: Iterable[Params], /) -> None:
        rows = list(parameters)
        if not rows:
            return
        bound = [await self._types.bind(self._conn, sql, p) for p in rows]
        await self._conn.executemany(bound[0][0], [args for _, args in bound])

    async def execute_fetchall(self, sql: str, parameters: Params = (), /) -> list[Any]:
        text, args = await self._types.bind(self._conn, sql, parameters)
        return list(await self._conn.fetch(text, *args))

    async def together(self, writes: Writes) -> None:
        """Independent writes in one trip: one statement, each a part of its ``WITH`` (all
        see the same snapshot, which independence makes the same as one after another)."""
        if len(writes.statements) == 1:
            await self.execute(*writes.statements[0])
            return
        parts = ", ".join(f"w{n} AS ({sql})" for n, (sql, _) in enumerate(writes.statements))
        params = [value for _, values in writes.statements for value in values]
        await self.execute(f"WITH {parts} SELECT 1", params)


def migrations() -> list[tuple[int, str, str]]:
    """PostgreSQL's migrations, as (number, name, SQL), in order: from 0011 on."""
    found = []
    folder = resources.files("bot.db").joinpath("migrations").joinpath("postgresql")
    for entry in folder.iterdir():
        match = PG_MIGRATION_RE.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if numbers != list(range(PG_FIRST, PG_FIRST + len(numbers))):
        raise DatabaseError(
            f"PostgreSQL's migrations must be numbered {PG_FIRST:04d}, {PG_FIRST + 1:04d}, … "
            f"without gaps: {numbers}"
        )
    return found


async def schema_version(conn: asyncpg.Connection) -> int:
    """The schema version of the database (0: empty)."""
    exists = await conn.fetchval("SELECT to_regclass('evalbot_schema') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT version FROM evalbot_schema") or 0)


async def version_of(url: str) -> int:
    """The schema version of the database at ``url`` (0: empty), read only."""
    try:
        conn = await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError) as exc:
        raise DatabaseError(f"cannot reach {hide_password(url)}: {exc}") from exc
    try:
        return await schema_version(conn)
    finally:
        await conn.close()


async def migrate(conn: asyncpg.Connection) -> int:
    """Apply every migration newer than the database's version, each in its own
    transaction, holding an advisory lock (instances starting together migrate once)."""
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATE_LOCK)
    try:
        current = await schema_version(conn)
        known = migrations()
        if current > known[-1][0]:
            raise DatabaseError(
                f"the database is at schema version {current}, newer than this code "
                f"({known[-1][0]}): upgrade the bot"
            )
        for number, name, sql in known:
            if number <= current:
                continue
            try:
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(
                        "CREATE TABLE IF NOT EXISTS evalbot_schema (version INTEGER NOT NULL)"
                    )
                    await conn.execute("DELETE FROM evalbot_schema")
                    await conn.execute("INSERT INTO evalbot_schema VALUES ($1)", number)
            except asyncpg.PostgresError as exc:
                raise DatabaseError(f"PostgreSQL migration {name} failed: {exc}") from exc
            log.info("applied PostgreSQL migration %s", name)
            current = number
        return current
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATE_LOCK)


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    """The reading pool's connections keep no session state (single statements, no locks,
    no settings): asyncpg's default reset, a round trip after every read
    (``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``), was a tenth of the
    bot's time during a meeting on PostgreSQL (measured). An open transaction is still
    rolled back by asyncpg before this is called."""


class PgDatabase(Database):
    """A PostgreSQL database opened for the bot: a writer connection and a reading pool."""

    dialect = "postgresql"

    def __init__(self, url: str, writer: asyncpg.Connection, pool: asyncpg.Pool) -> None:
        self.url = url
        self.target = url
        self._writer = writer
        self._pool = pool
        self._lock = Turns()
        self._types = _Types()
        self._group = GroupCommit(self._lock, self._commit_group)

    @property
    def shown(self) -> str:
        return hide_password(self.url)

    @classmethod
    async def connect(cls, url: str, claim: RoundFile | str | None = None) -> PgDatabase:
        try:
            writer = await asyncpg.connect(url)
        except (OSError, asyncpg.PostgresError) as exc:
            raise DatabaseError(f"cannot reach {hide_password(url)}: {exc}") from exc
        try:
            await migrate(writer)
            pool = await asyncpg.create_pool(url, min_size=1, max_size=8, reset=_nothing_to_reset)
        except BaseException:
            await writer.close()
            raise
        db = cls(url, writer, pool)
        if claim is not None:
            try:
                await db.claim(claim)
            except BaseException:
                await db.close()
                raise
        return db

    async def close(self) -> None:
        """Close the pool and the writer, within :data:`CLOSE_SECONDS` each: a connection
        still held then (a call on a connection the server dropped that never returned) is
        cut, so a bot stopping after a failover does not hang."""
        try:
            await asyncio.wait_for(self._pool.close(), CLOSE_SECONDS)
        except TimeoutError:
            log.warning("the reading pool did not close in %ss; its connections are cut",
                        CLOSE_SECONDS)  # fmt: skip
            self._pool.terminate()
        try:
            await asyncio.wait_for(self._lock.acquire(), CLOSE_SECONDS)
        except TimeoutError:
            log.warning("a write did not finish in %ss; the writer is cut", CLOSE_SECONDS)
            self._writer.terminate()
            return
        try:
            await asyncio.wait_for(self._writer.close(), CLOSE_SECONDS)
        except TimeoutError:
            self._writer.terminate()
        finally:
            self._lock.release()

    async def _writing(self) -> asyncpg.Connection:
        """The writer connection, made again when the server dropped it (a failover, a
        restart): the write that found it dropped failed and is tried again (design §9);
        the next one gets a new connection."""
        if self._writer.is_closed():
            log.warning("the database dropped the writer's connection; connecting again")
            self._writer = await asyncpg.connect(self.url)
        return self._writer

    @asynccontextmanager
    async def transaction(self, first: bool = False) -> AsyncIterator[Tx]:
        async with self._lock.first() if first else self._lock:
            conn = await self._writing()
            # one trip: begin, and wait for any other instance's write to finish
            await conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})")
            try:
                yield PgTx(conn, self._types)
            except BaseException:
                if not conn.is_closed():
                    await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")

    async def _commit_group(self, scripts: list[Script[Any]]) -> list[tuple[bool, Any]]:
        """A group of scripts in one transaction, each in its own savepoint. The savepoint's
        statements ride with the trips the transaction makes anyway (a script costs one
        trip more than its statements, against two for a transaction of its own)."""
        conn = await self._writing()
        tx = PgTx(conn, self._types)
        done: list[tuple[bool, Any]] = []
        await conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK}); SAVEPOINT press")
        try:
            for n, script in enumerate(scripts):
                if n:
                    await conn.execute("RELEASE press; SAVEPOINT press")
                try:
                    done.append((True, await drive(tx, script, tx.together)))
                except Exception as exc:  # noqa: BLE001 - this script's own failure, returned
                    await conn.execute("ROLLBACK TO press")  # (raises if the server is gone)
                    done.append((False, exc))
            await conn.execute("COMMIT")
        except BaseException:
            if not conn.is_closed():
                await conn.execute("ROLLBACK")
            raise
        return done

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[Batch]:
        batch = Batch()
        yield batch
        if not batch.statements:
            return
        async with self.transaction() as tx:
            for sql, params, many in batch.statements:
                if many:
                    await tx.executemany(sql, params)
                else:
                    await tx.execute(sql, params)

    @asynccontextmanager
    async def single(self) -> AsyncIterator[Tx]:
        async with self._lock:
            yield PgTx(await self._writing(), self._types)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """A read. When the server has dropped the pooled connections (a failover, a
        restart), each dead one fails the read it is handed to and is discarded; a read
        changes nothing, so it is made again on the next, until a live one (or a new one)
        answers. Without this a reader meeting the dead pool stopped for good (the poller
        did, found by test_instances)."""
        tries = self._pool.get_max_size() + 1
        for attempt in range(tries):
            try:
                return await self._on_pooled(sql, params)
            except DROPPED:
                if attempt == tries - 1:
                    raise
        raise AssertionError("unreachable")  # (the loop returns or raises)

    async def at_once(self, sql: str, params: Params = ()) -> list[Row]:
        # a pooled connection in autocommit: the row's own lock, not the write lock; made
        # once (a statement cut short by a drop may have been applied)
        return await self._on_pooled(sql, params)

    async def _on_pooled(self, sql: str, params: Params) -> list[Row]:
        async with self._pool.acquire() as conn:
            try:
                text, args = await self._types.bind(conn, sql, params)
                return list(await conn.fetch(text, *args))
            except DROPPED:
                # (the pool discards it instead of handing it out again; one already
                # closed was let go by the pool itself)
                with contextlib.suppress(asyncpg.exceptions.InterfaceError):
                    conn.terminate()
                raise


class SessionLocks:
    """Advisory locks held by this process until given back or until it dies (its
    connection closes, and the server releases them): one user's lane of updates is run by
    one instance at a time (bot/runtime/processor.py)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(self.url)
        return self._conn

    async def take(self, key: int) -> bool:
        async with self._lock:
            conn = await self._connection()
            return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))

    async def give(self, key: int) -> None:
        async with self._lock:
            if self._conn is not None and not self._conn.is_closed():
                await self._conn.fetchval("SELECT pg_advisory_unlock($1)", key)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await asyncio.wait_for(conn.close(), CLOSE_SECONDS)
            except TimeoutError:
                conn.terminate()


async def current_rounds(url: str) -> list[str]:
    """The rounds' ids in the order opened, read without migrating ([] when there is no
    schema yet)."""
    try:
        conn = await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError) as exc:
        raise DatabaseError(f"cannot reach {hide_password(url)}: {exc}") from exc
    try:
        if not await conn.fetchval("SELECT to_regclass('rounds') IS NOT NULL"):
            return []
        return [str(r[0]) for r in await conn.fetch("SELECT id FROM rounds ORDER BY seq")]
    finally:
        await conn.close()


async def read_snapshot(url: str, queries: Sequence[str]) -> list[list[Any]]:
    """Run ``queries`` in one read-only snapshot (REPEATABLE READ): what ``evalbot verify``
    reads while the bot writes."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            return [list(await conn.fetch(translate(q)[0])) for q in queries]
    finally:
        await conn.close()
