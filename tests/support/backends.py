"""Both backends: SQLite files and a throwaway PostgreSQL cluster (bot/db/pgcluster.py),
started once per test process on first use, with a new empty database per test. Where the
server programs are missing the PostgreSQL half is skipped (tests/conftest.py says so in
the header and summary); with ``EVALBOT_REQUIRE_POSTGRES=1`` (``.ci/run`` sets it) it
fails instead."""

from __future__ import annotations

import itertools
import os
import sqlite3
from dataclasses import dataclass

import asyncpg
import pytest

from bot.db import pgcluster

BACKENDS = ("sqlite", "postgresql")

# what a refused write raises on either backend (a unique key, a foreign key, a trigger)
INTEGRITY_ERRORS = (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)


@dataclass
class ClusterState:
    cluster: pgcluster.Cluster | None = None
    why_not: str = ""
    started: bool = False


STATE = ClusterState()
_names = itertools.count(1)


def _require() -> bool:
    return os.environ.get("EVALBOT_REQUIRE_POSTGRES", "") == "1"


def cluster() -> pgcluster.Cluster:
    """The process's cluster, started on first use; skips (or fails) without one."""
    if not STATE.started:
        STATE.started = True
        STATE.cluster, STATE.why_not = pgcluster.start()
    if STATE.cluster is None:
        message = f"the PostgreSQL half is skipped: {STATE.why_not}"
        if _require():
            pytest.fail(message + " (EVALBOT_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    return STATE.cluster


async def new_database() -> str:
    """The URL of a new empty database in the process's cluster."""
    found = cluster()
    name = f"t{os.getpid()}_{next(_names)}"
    conn = await asyncpg.connect(found.url())
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return found.url(name)


async def drop_every_connection(url: str) -> None:
    """A failover as the bot sees it: the server ends every connection to the database
    (but the one that asks)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
