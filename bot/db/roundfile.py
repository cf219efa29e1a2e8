"""What the storage layer knows of a round's campaign file (design §12), without reading it:
its id, year, name and text, kept in ``rounds``."""

from __future__ import annotations

from dataclasses import dataclass

# the tables whose rows belong to a round (their ``round`` column)
ROUND_TABLES = (
    "ballots",
    "ballot_log",
    "tallies",
    "ballot_cards",
    "invites",
    "findings",
    "daily_scores",
    "proposals",
    "publications",
    "cases",
)


@dataclass(frozen=True)
class RoundFile:
    id: str
    year: int = 0
    name: str = ""
    text: str = ""  # the campaign file (TOML); "" when only the id is known

    @classmethod
    def of(cls, claim: RoundFile | str) -> RoundFile:
        return claim if isinstance(claim, RoundFile) else cls(claim)
