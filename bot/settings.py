"""Settings from the environment, read once at start (secrets typed as secrets)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.errors import SettingsError

REPO_EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "campaign.toml"


class Secret:
    """A value that never shows itself in logs, reprs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__


@dataclass(frozen=True)
class Settings:
    """``TELEGRAM_BOT_TOKEN``, ``EVALBOT_DB``, ``EVALBOT_CAMPAIGN``, ``TELEGRAM_API_BASE_URL``,
    ``EVALBOT_BALLOT_KEY``."""

    token: Secret
    db_path: Path
    campaign_path: Path
    api_base_url: str | None  # handed to PTB's base_url as it is; PTB appends the token
    ballot_key_path: Path | None = None  # None: beside the database (bot.ballot_key)
    # EVALBOT_EDITS_COUNT_OVERALL=0: Telegram counts message edits per chat only, not in
    # the bot's overall 30/s (it does not say; counting them is the safe default)
    edits_overall: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        base_url = env.get("TELEGRAM_API_BASE_URL", "").strip() or None
        key_path = env.get("EVALBOT_BALLOT_KEY", "").strip()
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            raise SettingsError(
                f"TELEGRAM_API_BASE_URL must start with http:// or https://, got {base_url!r}"
            )
        return cls(
            token=Secret(env.get("TELEGRAM_BOT_TOKEN", "").strip()),
            db_path=Path(env.get("EVALBOT_DB", "evalbot.sqlite3")),
            campaign_path=Path(env.get("EVALBOT_CAMPAIGN", str(REPO_EXAMPLE))),
            api_base_url=base_url,
            ballot_key_path=Path(key_path) if key_path else None,
            edits_overall=env.get("EVALBOT_EDITS_COUNT_OVERALL", "1").strip() != "0",
        )

    def require_token(self) -> str:
        if not self.token:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set: ask @BotFather for a token, or try `evalbot demo`"
            )
        return self.token.reveal()
