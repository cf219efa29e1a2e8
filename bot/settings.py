"""Settings from the environment, read once at start (secrets typed as secrets)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import SettingsError

# The bundled example campaign (demo offices, a made-up organiser): the demo's, and a model
# to copy; shipped inside the package, so an installed evalbot has it too. `evalbot run`
# refuses it unless told (--example).
REPO_EXAMPLE = Path(__file__).resolve().parent / "examples" / "campaign.toml"


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
    ``EVALBOT_BALLOT_KEY``, ``EVALBOT_EDITS_COUNT_OVERALL``, ``EVALBOT_CONSOLE_URL``,
    ``EVALBOT_CONSOLE_LISTEN``, ``EVALBOT_INITDATA_MAX_AGE``, ``EVALBOT_PROXY``,
    ``EVALBOT_HEALTH_LISTEN``."""

    token: Secret
    db: str  # a SQLite file's path, or a postgresql:// URL
    campaign_path: Path
    api_base_url: str | None  # handed to PTB's base_url as it is; PTB appends the token
    ballot_key_path: Path | None = None  # None: beside the database (bot.ballot_key)
    # EVALBOT_EDITS_COUNT_OVERALL=0: Telegram counts message edits per chat only, not in
    # the bot's overall 30/s (it does not say; counting them is the safe default)
    edits_overall: bool = True
    # the web console: EVALBOT_CONSOLE_URL is the address people open (https, behind the
    # same TLS proxy as the webhook; its path ends in /console/); unset: no console
    console_url: str | None = None
    # where the console listens when there is no webhook server to share: host:port
    console_listen: tuple[str, int] = ("127.0.0.1", 8080)
    # EVALBOT_INITDATA_MAX_AGE: seconds a Mini App's signed init data stays good
    init_data_max_age: int = 3600
    # EVALBOT_PROXY: an HTTP(S) proxy every Bot API call goes through (a server whose only
    # way out is a proxy); its password, if any, is a secret like the token
    proxy: Secret = field(default_factory=lambda: Secret(""))
    # EVALBOT_HEALTH_LISTEN: host:port for /healthz, /readyz and /metrics when there is
    # neither a console nor a webhook to serve them beside; unset: not served then
    health_listen: tuple[str, int] | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        base_url = env.get("TELEGRAM_API_BASE_URL", "").strip() or None
        key_path = env.get("EVALBOT_BALLOT_KEY", "").strip()
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            raise SettingsError(
                f"TELEGRAM_API_BASE_URL must start with http:// or https://, got {base_url!r}"
            )
        console_url = env.get("EVALBOT_CONSOLE_URL", "").strip() or None
        if console_url is not None and not console_url.startswith(("http://", "https://")):
            raise SettingsError(
                f"EVALBOT_CONSOLE_URL must start with https:// (or http:// on loopback), "
                f"got {console_url!r}"
            )
        listen = env.get("EVALBOT_CONSOLE_LISTEN", "127.0.0.1:8080").strip()
        host, _, port = listen.rpartition(":")
        max_age = env.get("EVALBOT_INITDATA_MAX_AGE", "3600").strip()
        if not port.isdigit() or not host or not max_age.isdigit() or int(max_age) < 1:
            raise SettingsError(
                "EVALBOT_CONSOLE_LISTEN takes host:port and EVALBOT_INITDATA_MAX_AGE a number "
                f"of seconds, got {listen!r} and {max_age!r}"
            )
        proxy = env.get("EVALBOT_PROXY", "").strip()
        if proxy and not proxy.startswith(("http://", "https://")):
            raise SettingsError(
                "EVALBOT_PROXY takes an HTTP proxy's address, http://host:port (or "
                "http://user:password@host:port); SOCKS proxies are not supported"
            )
        health = env.get("EVALBOT_HEALTH_LISTEN", "").strip()
        health_host, _, health_port = health.rpartition(":")
        if health and not (health_host and health_port.isdigit()):
            raise SettingsError(f"EVALBOT_HEALTH_LISTEN takes host:port, got {health!r}")
        return cls(
            health_listen=(health_host, int(health_port)) if health else None,
            proxy=Secret(proxy),
            console_url=console_url,
            console_listen=(host, int(port)),
            init_data_max_age=int(max_age),
            token=Secret(env.get("TELEGRAM_BOT_TOKEN", "").strip()),
            db=env.get("EVALBOT_DB", "").strip() or "evalbot.sqlite3",
            campaign_path=Path(env.get("EVALBOT_CAMPAIGN", str(REPO_EXAMPLE))),
            api_base_url=base_url,
            ballot_key_path=Path(key_path) if key_path else None,
            edits_overall=env.get("EVALBOT_EDITS_COUNT_OVERALL", "1").strip() != "0",
        )

    @property
    def db_path(self) -> Path:
        """The SQLite file (meaningless for a PostgreSQL URL: see :func:`is_url`)."""
        return Path(self.db)

    def require_token(self) -> str:
        if not self.token:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set: ask @BotFather for a token, or try `evalbot demo`"
            )
        return self.token.reveal()
