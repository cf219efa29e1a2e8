"""scoring/ imports and works with telegram, aiosqlite and jinja2 made unimportable."""

import subprocess
import sys
import textwrap

BLOCKED = ("telegram", "aiosqlite", "jinja2", "aiohttp", "sqlite3", "babel", "bot", "handlers")

SCRIPT = textwrap.dedent(
    f"""
    import importlib.abc, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {BLOCKED!r}:
                raise ImportError("blocked in this test: " + name)
            return None

    sys.meta_path.insert(0, Block())
    import scoring
    from scoring import Counts, UnitInput, fmt, rank
    ranking = rank([UnitInput("u", ballots={{("service", "c"): Counts(60, 25, 10, 5)}})])
    print(fmt(ranking.units[0].result.democratic))
    loaded = sorted(m.split(".")[0] for m in sys.modules)
    print(",".join(m for m in {BLOCKED!r} if m in loaded))
    """
)


def test_scoring_needs_no_telegram_database_or_templates() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    score, loaded = done.stdout.splitlines()
    assert score == "86.50"
    assert loaded == ""
