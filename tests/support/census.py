"""The query census: which functions of ``bot/db/`` ran on which backend in this test run.

Every public function of the storage's table modules whose first parameter is the database
or a transaction is wrapped (in this process: the bot of a flow test runs here; one run as
a separate process, ``evalbot run``, is not counted) and each call notes the backend it ran
on. A run of the whole suite, with PostgreSQL's half, fails if a query ran on one backend
only or on none (tests/conftest.py): every query is proven on SQLite and on PostgreSQL,
whichever test proves it (the storage suite, or a flow that stays on both).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tests.support.backends import BACKENDS

MODULES = (
    "users",
    "flows",
    "inbox",
    "outbox",
    "cases",
    "roles",
    "ballots",
    "tallies",
    "cards",
    "results",
    "console",
    "rounds",
    "leases",
)
FIRST = ("db", "tx", "target")  # a database, a transaction, a database's path or URL

# queries that have one backend by their nature, and why
ONE_BACKEND = {
    "leases.take": "PostgreSQL only: which instance polls, runs the jobs, is alive",
    "leases.give_back": "PostgreSQL only: which instance polls, runs the jobs, is alive",
    "leases.holders": "PostgreSQL only: which instance polls, runs the jobs, is alive",
    "leases.reap": "PostgreSQL only: which instance polls, runs the jobs, is alive",
    "outbox.reserve": "PostgreSQL only: a call is reserved by one of several instances",
    "outbox.release": "PostgreSQL only: a call is reserved by one of several instances",
    "outbox.take_slot": "PostgreSQL only: the pace shared by several instances",
    "outbox.held_until": "PostgreSQL only: a 429's hold shared by several instances",
    "outbox.hold": "PostgreSQL only: a 429's hold shared by several instances",
    "outbox.claim": "PostgreSQL only: a call taken by one of several instances",
    "outbox.chat_ready_at": "PostgreSQL only: a chat's turn shared by several instances",
    "outbox.give_up_gone": "PostgreSQL only: the calls of an instance that stopped",
    "inbox.pending_in": "PostgreSQL only: a lane run by one of several instances",
    "inbox.waiting_lanes": "PostgreSQL only: the lanes an instance that stopped left",
    "ballots.any_cast": "PostgreSQL only: whether the ballot key may be new (SQLite: the file)",
}

SEEN: set[tuple[str, str]] = set()


def backend_of(first: Any) -> str:
    if isinstance(first, str):
        return "postgresql" if first.startswith(("postgres://", "postgresql://")) else "sqlite"
    return "postgresql" if "postgres" in type(first).__module__ else "sqlite"


def _wrap(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def noted(first: Any, *args: Any, **kwargs: Any) -> Any:
            SEEN.add((name, backend_of(first)))
            return await fn(first, *args, **kwargs)

        return noted

    @functools.wraps(fn)
    def noted_now(first: Any, *args: Any, **kwargs: Any) -> Any:
        SEEN.add((name, backend_of(first)))
        return fn(first, *args, **kwargs)

    return noted_now


def queries() -> dict[str, Callable[..., Any]]:
    """Every query function, by "module.function"."""
    found: dict[str, Callable[..., Any]] = {}
    for short in MODULES:
        module = importlib.import_module(f"bot.db.{short}")
        for name, fn in list(vars(module).items()):
            if name.startswith("_") or not inspect.isfunction(fn):
                continue
            if getattr(fn, "__wrapped__", fn).__module__ != module.__name__:
                continue
            params = list(inspect.signature(fn).parameters)
            if params and params[0] in FIRST:
                found[f"{short}.{name}"] = fn
    return found


def install() -> None:
    """Wrap every query (once per process, before the tests import the bot)."""
    for full, fn in queries().items():
        if hasattr(fn, "__wrapped__"):
            continue
        short, name = full.split(".")
        module = importlib.import_module(f"bot.db.{short}")
        setattr(module, name, _wrap(full, fn))


def dump(path: Path) -> None:
    path.write_text(json.dumps(sorted(SEEN)))


def load(paths: Iterable[Path]) -> set[tuple[str, str]]:
    seen = set(SEEN)
    for p in paths:
        seen.update((a, b) for a, b in json.loads(p.read_text()))
    return seen


def missing(seen: set[tuple[str, str]]) -> list[str]:
    """What no test ran: "module.function on backend", for every backend it should run on."""
    lacking = []
    for full in sorted(queries()):
        wanted = ("postgresql",) if full in ONE_BACKEND else BACKENDS
        lacking += [f"{full} on {b}" for b in wanted if (full, b) not in seen]
    return lacking
