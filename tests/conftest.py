"""Both backends: the storage and flow suites run against SQLite and PostgreSQL
(tests/support/backends.py).

The PostgreSQL half starts its own throwaway cluster (bot/db/pgcluster.py) once per test
session, whenever the server programs are on the machine, and gives each test a new empty
database in it. Where they are not, that half is skipped and the session's header says
why; with ``EVALBOT_REQUIRE_POSTGRES=1`` (``.ci/run`` sets it) it fails instead.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.db import pgcluster
from tests.support import census
from tests.support.backends import BACKENDS, STATE, cluster, new_database

census.install()  # before any test module imports the bot (tests/support/census.py)
CENSUS_DIR = "EVALBOT_CENSUS_DIR"

# the modules whose tests take a minute or so: started first, so that the workers
# (pytest-xdist) do not wait on one of them at the end
LONG_FIRST = ("test_interleaving", "test_flood", "test_crash", "test_instances", "test_fuzz")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.stem
        return LONG_FIRST.index(name) if name in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)  # stable: the order within a module stays
    # a flow runs on PostgreSQL only when marked: the storage suite proves every query on
    # both backends (the census below checks it), the flows prove the bot's behaviour
    dropped = [item for item in items if sqlite_only(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not sqlite_only(item)]


def sqlite_only(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return (
        callspec is not None
        and callspec.params.get("backend") == "postgresql"
        and item.path.parent.name == "flows"
        and item.get_closest_marker("on_postgresql") is None
    )


def pytest_report_header(config: pytest.Config) -> str:
    where, why = pgcluster.find_binaries()
    if where is None:
        return f"PostgreSQL half: SKIPPED, {why}"
    return f"PostgreSQL half: runs on a throwaway cluster ({where})"


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller, or a run without workers
        os.environ[CENSUS_DIR] = tempfile.mkdtemp(prefix="evalbot-census-")


def whole_suite(config: pytest.Config) -> bool:
    """Every test was asked for (the README's command): no paths, -k or -m."""
    asked = [Path(a.split("::")[0]).resolve() for a in config.args]
    tests = [(config.rootpath / p).resolve() for p in config.getini("testpaths")]
    return (
        asked in ([], tests)
        and not config.option.keyword
        and not config.option.markexpr
        and not config.option.collectonly
        and pgcluster.find_binaries()[0] is not None
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if STATE.started and STATE.cluster is None:
        terminalreporter.write_line(
            f"PostgreSQL half SKIPPED: {STATE.why_not}", yellow=True, bold=True
        )
    lacking = getattr(terminalreporter.config, "census_lacking", [])
    if lacking:
        terminalreporter.write_line(
            f"QUERY CENSUS: {len(lacking)} queries of bot/db/ ran on no test on a backend "
            "(tests/support/census.py): " + ", ".join(lacking),
            red=True,
            bold=True,
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    if STATE.cluster is not None:
        STATE.cluster.stop()
    folder = Path(os.environ[CENSUS_DIR])
    worker = getattr(session.config, "workerinput", None)
    if worker is not None:
        census.dump(folder / f"{worker['workerid']}.json")
        return
    if whole_suite(session.config) and session.exitstatus == 0:
        lacking = census.missing(census.load(folder.glob("*.json")))
        session.config.census_lacking = lacking  # type: ignore[attr-defined]
        if lacking:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
