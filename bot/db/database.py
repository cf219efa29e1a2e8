"""The connection pair, the transaction and the migrations."""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import heapq
import itertools
import logging
import re
import sqlite3
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiosqlite

from bot.clock import iso
from bot.db import search
from bot.db.roundfile import ROUND_TABLES, RoundFile
from bot.errors import DatabaseError

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]


class Row(Protocol):
    """A row: by position or by column name (sqlite3.Row, asyncpg.Record)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...

    def keys(self) -> Any: ...


class Cursor(Protocol):
    """What a write returns: how many rows it changed, and a row it returned."""

    @property
    def rowcount(self) -> int: ...

    async def fetchone(self) -> Any: ...

    async def close(self) -> None: ...


class Tx(Protocol):
    """The writer inside a transaction (an aiosqlite connection, or bot.db.postgres.PgTx):
    SQL with ``?`` (or ``:name``) parameters, as written for SQLite; the PostgreSQL writer
    translates the parameters."""

    async def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...

    async def executemany(self, sql: str, parameters: Any, /) -> Any: ...

    async def execute_fetchall(self, sql: str, parameters: Any = ..., /) -> Iterable[Any]: ...


class Batch:
    """Writes gathered to be made together, in one transaction and one trip to the
    database's thread (:meth:`Database.batch`): for writes whose results nobody reads,
    on the paths every update takes."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Params, bool]] = []

    async def execute(self, sql: str, params: Params = ()) -> None:
        self.statements.append((sql, params, False))

    async def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        self.statements.append((sql, rows, True))


PG_BACKUP = (
    "a PostgreSQL database is backed up with PostgreSQL's own tools, not by the bot: "
    "`pg_dump --format=custom --file=evalbot.dump URL` for a copy now (restore it with "
    "`pg_restore --dbname=URL evalbot.dump`), or your provider's continuous archiving and "
    "point-in-time recovery (`pg_basebackup` with WAL archiving on your own server). Keep the "
    "ballot key (EVALBOT_BALLOT_KEY) apart from these backups."
)

# the current round's id, in SQL (design §12): the last round opened is the current one
CURRENT = "(SELECT id FROM current_round)"

Writer = Tx | Batch  # what a function that only writes (and reads nothing back) takes


T = TypeVar("T")

# A transaction written as a script: a generator that yields each statement (SQL and its
# parameters), is sent the statement's rows, and returns the transaction's result. One
# definition, run by either backend: statement by statement on a transaction
# (:func:`drive`), or on SQLite all at once in the writer's thread (:meth:`Database.run`).
Statement = tuple[str, Any]


@dataclass(frozen=True)
class Writes:
    """A script's step of several writes whose rows nobody reads, made as if one after
    another, and independent: none reads or changes a row another of them changes. A
    backend may make them in one trip (PostgreSQL as one statement, each a ``WITH``
    part). The script is sent no rows for it. Positional (``?``) parameters only."""

    statements: tuple[Statement, ...]

    def __post_init__(self) -> None:
        if any(isinstance(values, dict) for _, values in self.statements):
            raise DatabaseError("independent writes take ? parameters, not :name")


Step = Statement | Writes
Script = Generator[Step, list[Any], T]


async def drive(
    tx: Tx,
    script: Script[T],
    together: Callable[[Writes], Awaitable[None]] | None = None,
) -> T:
    """Run ``script`` inside the open transaction ``tx``, a trip per statement; a
    :class:`Writes` step by ``together`` when given (else a statement at a time)."""
    try:
        step = next(script)
        while True:
            rows: list[Any] = []
            if not isinstance(step, Writes):
                rows = list(await tx.execute_fetchall(*step))
            elif together is not None:
                await together(step)
            else:
                for statement in step.statements:
                    await tx.execute(*statement)
            step = script.send(rows)
    except StopIteration as done:
        return done.value


class Turns:
    """The writer's turns: one holder at a time, in order of asking, except that a turn
    asked ``first`` (the intake storing what ``getUpdates`` brought, which the next
    ``getUpdates`` waits for) goes before every plain one waiting. ``async with turns``
    is a plain turn, as with an ``asyncio.Lock``."""

    def __init__(self) -> None:
        self._held = False
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._asked = itertools.count()

    def locked(self) -> bool:
        return self._held

    async def acquire(self, first: bool = False) -> bool:
        if not self._held and not self._waiting:
            self._held = True
            return True
        turn = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (0 if first else 1, next(self._asked), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # given the turn as it was cancelled: pass it on
            raise
        return True

    def release(self) -> None:
        while self._waiting:
            turn = heapq.heappop(self._waiting)[2]
            if not turn.done():
                turn.set_result(None)  # held on, by the next
                return
        self._held = False

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.release()

    @asynccontextmanager
    async def first(self) -> AsyncIterator[None]:
        await self.acquire(first=True)
        try:
            yield
        finally:
            self.release()


class GroupCommit:
    """Group commit for :meth:`Database.run`: the scripts that ask while a group is being
    written wait together and go in the next group, one transaction on the writer, each
    script in its own savepoint (a meeting's presses). Scripts asked ``first`` (the intake's
    stores: the next ``getUpdates``, or Telegram's next webhook request, waits for them)
    form groups of their own, which take the writer's turn ahead of every plain write
    waiting (:class:`Turns`). ``commit`` writes a group and gives each script's result in
    order: (True, its value) or (False, its error). It is called holding the writer's turn
    (``turns``); when it raises, every script of the group fails with that error."""

    def __init__(
        self,
        turns: Turns,
        commit: Callable[[list[Script[Any]]], Awaitable[list[tuple[bool, Any]]]],
    ) -> None:
        self._turns = turns
        self._commit = commit
        self._gathered: dict[bool, list[tuple[Script[Any], asyncio.Future[Any]]]] = {
            True: [],  # the scripts asked ``first``
            False: [],
        }
        self._gathering: dict[bool, asyncio.Task[None]] = {}

    async def run(self, script: Script[T], first: bool = False) -> T:
        waiting: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._gathered[first].append((script, waiting))
        gathering = self._gathering.get(first)
        if gathering is None or gathering.done():
            self._gathering[first] = asyncio.create_task(self._commit_gathered(first))
        return await waiting

    async def _commit_gathered(self, first: bool) -> None:
        while self._gathered[first]:
            await self._turns.acquire(first)
            try:
                batch = [(s, w) for s, w in self._gathered[first] if not w.cancelled()]
                self._gathered[first] = []
                if not batch:
                    continue
                try:
                    done = await self._commit([s for s, _ in batch])
                except Exception as exc:  # noqa: BLE001 - the transaction failed: every script
                    done = [(False, exc)] * len(batch)
            finally:
                self._turns.release()
            for (_, waiting), (ok, value) in zip(batch, done, strict=True):
                if waiting.done():
                    continue
                if ok:
                    waiting.set_result(value)
                else:
                    waiting.set_exception(value)


def _through(conn: sqlite3.Connection, script: Script[T]) -> T:
    """The script's statements on ``conn`` one after another (in SQLite's writer thread,
    inside a transaction); the script's result."""
    try:
        step = next(script)
        while True:
            if isinstance(step, Writes):
                for statement in step.statements:
                    conn.execute(*statement)
                step = script.send([])
            else:
                step = script.send(conn.execute(*step).fetchall())
    except StopIteration as done:
        return done.value


def _read_through(conn: sqlite3.Connection, script: Script[T]) -> T:
    """A script that only reads: its statements in one read transaction (one snapshot of
    the database)."""
    conn.execute("BEGIN")
    try:
        return _through(conn, script)
    finally:
        conn.execute("COMMIT")


def _run_scripts(conn: sqlite3.Connection, scripts: list[Script[Any]]) -> list[tuple[bool, Any]]:
    """Several scripts in one transaction, each inside its own savepoint: one that raises is
    rolled back alone and its error returned in its place; the rest commit together (group
    commit). Each result is (True, value) or (False, the error)."""
    done: list[tuple[bool, Any]] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for script in scripts:
            conn.execute("SAVEPOINT press")
            try:
                done.append((True, _through(conn, script)))
            except Exception as exc:  # noqa: BLE001 - this script's own failure, returned
                conn.execute("ROLLBACK TO press")
                done.append((False, exc))
            conn.execute("RELEASE press")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return done


def _run_batch(conn: sqlite3.Connection, statements: list[tuple[str, Any, bool]]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for sql, params, many in statements:
            if many:
                conn.executemany(sql, params)
            else:
                conn.execute(sql, params)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


MIGRATION_RE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
MIGRATION_FUNCTIONS = ("evalbot_pseudonym", "evalbot_origin")


def _needs(name: str) -> Callable[[Any], Any]:
    def missing(value: Any) -> Any:
        raise sqlite3.OperationalError(f"{name}: the ballot key is needed to convert ballots")

    return missing


def migrations() -> list[tuple[int, str, str]]:
    """Every migration shipped with the code, as (number, name, SQL), in order."""
    found = []
    for entry in resources.files("bot.db").joinpath("migrations").iterdir():
        match = MIGRATION_RE.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise DatabaseError(f"migrations must be numbered 0001, 0002, … without gaps: {numbers}")
    return found


async def _connect(path: Path | str) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    conn.row_factory = sqlite3.Row
    await conn.execute("PRAGMA busy_timeout = 10000")
    await conn.execute("PRAGMA foreign_keys = ON")
    return conn


def is_url(target: Path | str) -> bool:
    """Whether ``EVALBOT_DB`` names a PostgreSQL database (else it is a SQLite file)."""
    return str(target).startswith(("postgresql://", "postgres://"))


class Database:
    """The bot's database: a SQLite file (the default) or a PostgreSQL database (a
    ``postgresql://`` URL), behind the same calls. Writes go through :meth:`transaction`,
    :meth:`batch` or :meth:`single`, one writer at a time; reads never wait for it."""

    dialect = "sqlite"  # or "postgresql"
    target = ""  # the file's path or the URL (without its password: see ``shown``)

    @property
    def shown(self) -> str:
        """How to name the database in messages and logs (no password)."""
        return self.target

    async def claim(self, claim: RoundFile | str) -> None:
        """What :func:`bot.db.backends.open_database` checks, on an open database."""
        await claim_round(self, RoundFile.of(claim))

    async def close(self) -> None:
        raise NotImplementedError

    def transaction(self, first: bool = False) -> AbstractAsyncContextManager[Tx]:
        """One transaction on the writer; commits on success, rolls back on any error."""
        raise NotImplementedError

    def batch(self) -> AbstractAsyncContextManager[Batch]:
        """Gather writes, then make them in one transaction (nothing is written if the
        block raises): for writes whose results nobody reads, on the paths every update
        takes."""
        raise NotImplementedError

    def single(self) -> AbstractAsyncContextManager[Tx]:
        """The writer for exactly one statement, committed on its own. Use
        :meth:`transaction` for more."""
        raise NotImplementedError

    _group: GroupCommit  # each backend's, on its writer

    async def run(self, script: Script[T], first: bool = False) -> T:
        """A transaction written as a script (see :data:`Script`): commits when it returns,
        rolls back if it raises; committed with the others waiting meanwhile (group
        commit, :class:`GroupCommit`). SQLite runs a group in one trip to its writer's
        thread, so a burst of them (a meeting's presses) does not wait on the event loop
        between statements while holding the writer; PostgreSQL a trip per statement.
        ``first``: ahead of the other writes waiting (see :class:`Turns`)."""
        return await self._group.run(script, first)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        raise NotImplementedError

    async def read(self, script: Script[T]) -> T:
        """A script that only reads, on the reader: here a statement at a time, outside any
        transaction. SQLite runs it at once, on the event loop's own thread, in one
        snapshot: so only a few rows found by key (what every update or press reads); a
        read of many rows is :meth:`fetchall`'s. (The same script can be a step of a
        transaction's: ``yield from``.)"""
        try:
            step = next(script)
            while True:
                if isinstance(step, Writes):
                    raise DatabaseError("a read script cannot write")
                step = script.send(list(await self.fetchall(*step)))
        except StopIteration as done:
            return done.value

    async def at_once(self, sql: str, params: Params = ()) -> list[Row]:
        """One statement that commits by itself, not queued behind the bot's serialised
        write transactions: bookkeeping that no other write reads (a pacing slot, updates
        marked processed), which must not wait for a burst of ballots. What it returns
        (``RETURNING``). On SQLite, one transaction like any other."""
        async with self.transaction() as tx:
            return list(await tx.execute_fetchall(sql, params))

    async def backup(self, target: Path) -> None:
        """A consistent copy of the whole database into the file ``target``, taken while
        the bot runs (SQLite only: see :data:`PG_BACKUP`)."""
        raise DatabaseError(PG_BACKUP)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


class SqliteDatabase(Database):
    """A SQLite file opened for the bot: a serialised writer and a reader."""

    def __init__(
        self,
        path: Path | str,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        quick: sqlite3.Connection,
    ) -> None:
        self.path = Path(path)
        self.target = str(path)
        self._writer = writer
        self._reader = reader
        self._quick = quick  # :meth:`read`'s, used on the event loop's thread
        self._lock = Turns()
        self._group = GroupCommit(self._lock, self._commit_group)

    @classmethod
    async def connect(
        cls,
        path: Path | str,
        claim: RoundFile | str | None = None,
        functions: Mapping[str, Callable[[Any], Any]] | None = None,
    ) -> SqliteDatabase:
        writer = await _connect(path)
        try:
            for name in MIGRATION_FUNCTIONS:
                given = (functions or {}).get(name)
                await writer.create_function(
                    name, 1, given or _needs(name), deterministic=given is not None
                )
            # the words of a case's text for the search index (migration 0009)
            await writer.create_function("evalbot_words", 1, search.words, deterministic=True)
            mode = await (await writer.execute("PRAGMA journal_mode = WAL")).fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                raise DatabaseError(f"{path}: cannot use write-ahead logging")
            # NORMAL keeps every commit across a crash of the process (kill -9); only a
            # power cut can lose the last commits before a checkpoint.
            await writer.execute("PRAGMA synchronous = NORMAL")
            await keep_before_migrating(writer, Path(path))
            await migrate(writer)
            reader = await _connect(path)
        except BaseException:
            await writer.close()
            raise
        try:
            quick = sqlite3.connect(str(path), isolation_level=None)
            quick.row_factory = sqlite3.Row
            quick.execute("PRAGMA query_only = ON")
            # (in WAL a reader waits only in rare moments, such as after a crash's recovery)
            quick.execute("PRAGMA busy_timeout = 2000")
        except BaseException:
            await reader.close()
            await writer.close()
            raise
        db = cls(path, writer, reader, quick)
        if claim is not None:
            try:
                await db.claim(claim)
            except BaseException:
                await db.close()
                raise
        return db

    async def close(self) -> None:
        async with self._lock:
            self._quick.close()
            await self._reader.close()
            await self._writer.close()

    @asynccontextmanager
    async def transaction(self, first: bool = False) -> AsyncIterator[Tx]:
        async with self._lock.first() if first else self._lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[Batch]:
        batch = Batch()
        yield batch
        if not batch.statements:
            return
        async with self._lock:
            # aiosqlite runs each call on its connection's thread; _execute hands it a
            # function, so the whole transaction is one call (a transaction of n
            # statements is otherwise n + 2 trips, each waking the event loop; aiosqlite
            # is pinned < 0.23)
            await self._writer._execute(_run_batch, self._writer._conn, batch.statements)

    @asynccontextmanager
    async def single(self) -> AsyncIterator[Tx]:
        async with self._lock:
            yield self._writer

    async def _commit_group(self, scripts: list[Script[Any]]) -> list[tuple[bool, Any]]:
        # the whole group in one trip to the writer's thread
        return await self._writer._execute(_run_scripts, self._writer._conn, scripts)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self._reader.execute_fetchall(sql, params))

    async def read(self, script: Script[T]) -> T:
        # Not a trip to the reader's thread: a read by key takes microseconds, and a trip
        # waits for that thread to get the interpreter while the loop is busy (measured in
        # a meeting of 1,000: p90 75-120 ms for a one-row read, the press's largest wait).
        # WAL: a reader does not wait for the writer.
        return _read_through(self._quick, script)

    async def backup(self, target: Path) -> None:
        """A consistent copy of the whole database, taken while the bot runs."""
        async with self._lock:
            dest = await aiosqlite.connect(str(target))
            try:
                await self._writer.backup(dest)
            finally:
                await dest.close()


def schema_version(path: Path) -> int:
    """A SQLite file's schema version (0: new or empty), read without opening it for
    writing."""
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def kept_before(path: Path, version: int, to: int) -> Path:
    """Where the copy of a database taken before migrating it is kept."""
    return path.with_name(f"{path.name}.before-migration-{version:04d}-to-{to:04d}")


async def keep_before_migrating(conn: aiosqlite.Connection, path: Path) -> Path | None:
    """Before any migration runs on a database that holds data, a consistent copy of it
    beside it (``VACUUM INTO``): going back is stopping the bot, putting the copy back
    (``evalbot restore``) and running the earlier version. None when nothing is to run."""
    row = await (await conn.execute("PRAGMA user_version")).fetchone()
    current, latest = (int(row[0]) if row else 0), len(migrations())
    if current == 0 or current >= latest:
        return None
    kept = kept_before(path, current, latest)
    kept.unlink(missing_ok=True)  # (a copy left by a migration that failed: taken again)
    await conn.execute("VACUUM INTO ?", (str(kept),))
    log.warning("the database is at schema %s, this code at %s: a copy was kept as %s "
                "before migrating", current, latest, kept)  # fmt: skip
    return kept


async def migrate(conn: aiosqlite.Connection) -> int:
    """Apply every migration newer than the file's ``user_version``, each in its own
    transaction; return the resulting version."""
    row = await (await conn.execute("PRAGMA user_version")).fetchone()
    current = int(row[0]) if row else 0
    known = migrations()
    if current > len(known):
        raise DatabaseError(
            f"the database is at schema version {current}, newer than this code "
            f"({len(known)}): upgrade the bot"
        )
    for number, name, sql in known[current:]:
        try:
            await conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise DatabaseError(f"migration {name} failed: {exc}") from exc
        log.info("applied migration %s", name)
        current = number
    return current


async def claim_round(db: Database, claim: RoundFile) -> None:
    """See :func:`bot.db.backends.open_database`: the same on both backends."""
    rows = await db.fetchall("SELECT id, closed_at FROM rounds ORDER BY seq")
    if not rows:
        async with db.transaction() as tx:
            again = list(await tx.execute_fetchall("SELECT id FROM rounds ORDER BY seq"))
            if not again:  # (another instance may have claimed it meanwhile)
                for table in ROUND_TABLES:  # rows written before any campaign claimed it
                    await tx.execute(f"UPDATE {table} SET round = ? WHERE round = ''", (claim.id,))
                await tx.execute(
                    "UPDATE roles SET round = ? WHERE role = 'evaluator' AND round = ''",
                    (claim.id,),
                )
                await tx.execute(
                    "INSERT INTO rounds (seq, id, year, name, campaign, opened_at) "
                    "VALUES (1, ?, ?, ?, ?, ?)",
                    (claim.id, claim.year, claim.name, claim.text, iso(dt.datetime.now(dt.UTC))),
                )
                return
            rows = again
    refused = refusal(db.shown, [str(r[0]) for r in rows], claim.id)
    if refused is not None:
        raise refused
    if claim.text:  # the current round's file as last run (earlier rounds keep theirs)
        async with db.transaction() as tx:
            await tx.execute(
                "UPDATE rounds SET year = ?, name = ?, campaign = ? WHERE id = ?",
                (claim.year, claim.name, claim.text, claim.id),
            )


def refusal(path: Path | str, rounds: list[str], claim_id: str) -> DatabaseError | None:
    """Why a campaign file cannot run on a database holding ``rounds`` (None: it can)."""
    if not rounds or claim_id == rounds[-1]:
        return None
    current = rounds[-1]
    if claim_id in rounds:
        return DatabaseError(
            f"{path}: the round {claim_id!r} is over; the current round is {current!r}. "
            "Run the bot with the current round's campaign file"
        )
    return DatabaseError(
        f"{path} is at the round {current!r}, not {claim_id!r}. To open {claim_id!r} as the "
        "next round (what carries over: README, 'Next year's round'), stop the bot and run "
        "`evalbot round start FILE`; for a separate campaign use another EVALBOT_DB"
    )


def file_rounds(path: Path) -> list[str]:
    """The rounds of a SQLite file, read-only (without migrating it)."""
    if not path.exists():
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "rounds" in tables:
            rounds = [str(r[0]) for r in conn.execute("SELECT id FROM rounds ORDER BY seq")]
        elif "meta" in tables:  # before migration 0011: the campaign that claimed it
            rounds = [
                str(r[0]) for r in conn.execute("SELECT value FROM meta WHERE key = 'campaign_id'")
            ]
        else:
            rounds = []
    finally:
        conn.close()
    return rounds


def backup_file(source: Path, target: Path) -> str:
    """SQLite's online backup of ``source`` into ``target`` (a consistent copy even while
    the bot writes); returns what the copy's integrity check says ("ok")."""
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        reader.backup(dest)
        found = dest.execute("PRAGMA integrity_check").fetchone()
    finally:
        dest.close()
        reader.close()
    return str(found[0]) if found else "?"


@dataclass(frozen=True)
class Restored:
    verified: str  # what the recount said
    kept: Path | None  # the database it replaced, kept beside it


@contextmanager
def in_use(path: Path) -> Iterator[None]:
    """Hold the SQLite file ``path`` as in use (``evalbot run`` while it runs; ``evalbot
    restore`` while it replaces it): an exclusive lock on ``path``.lock, which the system
    lets go when the process ends, however it ends (kill -9 included)."""
    lock = path.with_name(path.name + ".lock")
    with lock.open("a") as held:
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise DatabaseError(f"{path} is in use by a running evalbot: stop it first") from exc
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)


def restore_file(source: Path, dest: Path, verify: Callable[[Path], Any]) -> Restored:
    """Put the backup ``source`` in place of the database ``dest``: copied beside it first,
    checked (integrity, and ``verify``, the ballots' recount) and only then moved into
    place, so a bad backup changes nothing. Refused while a bot runs on it (:func:`in_use`)."""
    with in_use(dest):
        return _restore(source, dest, verify)


def _restore(source: Path, dest: Path, verify: Callable[[Path], Any]) -> Restored:
    copy = dest.with_name(dest.name + ".restoring")
    copy.unlink(missing_ok=True)
    found = backup_file(source, copy)
    if found != "ok":
        copy.unlink(missing_ok=True)
        raise DatabaseError(f"{source} fails SQLite's integrity check ({found})")
    checked = verify(copy)
    if not getattr(checked, "ok", False):
        copy.unlink(missing_ok=True)
        problems = "; ".join(getattr(checked, "problems", [])[:3])
        raise DatabaseError(f"the ballots of {source} do not recount: {problems}")
    settled = sqlite3.connect(copy)  # the last connection to close takes its journal along
    try:
        settled.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        settled.close()
    for journal in ("-wal", "-shm"):
        copy.with_name(copy.name + journal).unlink(missing_ok=True)
    kept = None
    if dest.exists():
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        kept = dest.with_name(f"{dest.name}.before-restore-{stamp}")
        dest.rename(kept)
        for journal in ("-wal", "-shm"):
            dest.with_name(dest.name + journal).unlink(missing_ok=True)
    copy.rename(dest)
    return Restored(
        f"{getattr(checked, 'entries', 0)} log entries, chain head "
        f"{str(getattr(checked, 'head', ''))[:16]}",
        kept,
    )


def peek(path: Path, key: str) -> tuple[str | None, bool]:
    """Before opening: the value kept under ``key`` in ``meta`` (if the file and the table
    exist) and whether any ballot was cast (in the ballots or their log)."""
    if not path.exists():
        return None, False
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        value = None
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            value = str(row[0]) if row else None
        cast = any(
            conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() is not None  # our names
            for t in ("ballots", "ballot_log")
            if t in tables
        )
        return value, cast
    finally:
        conn.close()
