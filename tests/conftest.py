"""Both backends: the storage and flow suites run against SQLite and PostgreSQL
(tests/support/backends.py).

The PostgreSQL half starts its own throwaway cluster (bot/db/pgcluster.py) once per test
session, whenever the server programs are on the machine, and gives each test a new empty
database in it. Where they are not, that half is skipped and the session's header says
why; with ``EVALBOT_REQUIRE_POSTGRES=1`` (``.ci/run`` sets it) it fails instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.db import pgcluster
from tests.support.backends import BACKENDS, STATE, cluster, new_database

# the modules whose tests take a minute or so: started first, so that the workers
# (pytest-xdist) do not wait on one of them at the end
LONG_FIRST = ("test_interleaving", "test_flood", "test_crash", "test_instances", "test_fuzz")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.stem
        return LONG_FIRST.index(name) if name in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)  # stable: the order within a module stays


def pytest_report_header(config: pytest.Config) -> str:
    where, why = pgcluster.find_binaries()
    if where is None:
        return f"PostgreSQL half: SKIPPED, {why}"
    return f"PostgreSQL half: runs on a throwaway cluster ({where})"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if STATE.started and STATE.cluster is None:
        terminalreporter.write_line(
            f"PostgreSQL half SKIPPED: {STATE.why_not}", yellow=True, bold=True
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    if STATE.cluster is not None:
        STATE.cluster.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test on each backend."""
    if request.param == "postgresql":
        cluster()
    yield str(request.param)


@pytest.fixture
async def db_target(backend: str, tmp_path: Path) -> str:
    """Where the test's database is: a new SQLite file, or a new PostgreSQL database."""
    if backend == "postgresql":
        return await new_database()
    return str(tmp_path / "t.sqlite3")
