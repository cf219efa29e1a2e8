"""The lock files (pip-compile's, from pyproject.toml) pin every dependency exactly, within
pyproject's ranges: an install from them is the one CI tested (README)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def pins(lock: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (ROOT / lock).read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", line)
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def test_every_dependency_is_pinned_within_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime, dev = project["dependencies"], project["optional-dependencies"]["dev"]
    for lock, wanted in (("requirements.lock", runtime), ("requirements-dev.lock", runtime + dev)):
        pinned = pins(lock)
        for spec in wanted:
            requirement = Requirement(spec)
            name = canonicalize_name(requirement.name)
            assert name in pinned, f"{lock}: {name} is not pinned (run pip-compile again)"
            assert requirement.specifier.contains(pinned[name], prereleases=True), (
                f"{lock}: {name}=={pinned[name]} is outside {requirement.specifier}"
            )
    production = set(pins("requirements.lock"))
    assert not production & {"pytest", "playwright", "mypy", "ruff", "hypothesis"}
