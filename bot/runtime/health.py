"""What an administrator's monitoring asks of a running bot: ``/healthz``, ``/readyz`` and
``/metrics``, served beside the console or the webhook (or on EVALBOT_HEALTH_LISTEN).

- ``/healthz``: the process lives and its event loop answers (200, always).
- ``/readyz``: the database answers within two seconds; this instance's role (poller,
  standby, webhook); the outbox's backlog; seconds since the last update was handled.
  200 when the database answers, 503 when it does not.
- ``/metrics``: Prometheus' text format (``prometheus_client``): updates by kind, press →
  pop-up seconds, the outbox's backlog, Telegram's 429s, cases by state, ballots cast.
  Only for a client on this machine that did not come through a proxy (no
  ``X-Forwarded-For``): the nginx sites in ``deploy/`` never forward it, so it is not
  reachable from outside unless an administrator opens it on purpose.

Nothing here names a person or carries what anyone wrote (tests/flows/test_privacy.py).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot.db import Database
from bot.db import ballots as ballot_store
from bot.db import cases as case_store
from bot.db import outbox as outbox_store

REGISTRY = CollectorRegistry()
UPDATES = Counter(
    "evalbot_updates", "Updates received from Telegram, by kind", ["kind"], registry=REGISTRY
)
PRESS_SECONDS = Histogram(
    "evalbot_press_popup_seconds",
    "From a ballot press's arrival at the bot to its pop-up answered",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0),
    registry=REGISTRY,
)
FLOODS = Counter(
    "evalbot_telegram_429", "Telegram's 429 (too many requests) answers", registry=REGISTRY
)
OUTBOX = Gauge("evalbot_outbox_backlog", "Messages queued, not yet sent", registry=REGISTRY)
CASES = Gauge("evalbot_cases", "Cases of every round, by state", ["state"], registry=REGISTRY)
BALLOTS = Gauge(
    "evalbot_ballots_cast", "Answers stored in the current round's ballots", registry=REGISTRY
)

READY_SECONDS = 2.0  # how long /readyz waits for the database


def update_kind(raw: dict[str, object]) -> str:
    """An update's kind as Telegram names it (message, callback_query, …)."""
    return next((key for key in raw if key != "update_id"), "unknown")


@dataclass
class Instance:
    """What /readyz says of this instance, asked when it is asked."""

    role: Callable[[], str]  # poller, standby or webhook
    last_handled: Callable[[], float | None]  # time.monotonic() of the last update handled


def from_this_machine(request: web.Request) -> bool:
    """A client on this machine, not through a proxy (which would add X-Forwarded-For)."""
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


class Health:
    def __init__(self, db: Database, instance: Instance) -> None:
        self.db = db
        self.instance = instance

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self.healthz, name="healthz")
        app.router.add_get("/readyz", self.readyz, name="readyz")
        app.router.add_get("/metrics", self.metrics, name="metrics")

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(self, request: web.Request) -> web.Response:
        try:
            backlog = await asyncio.wait_for(outbox_store.counts(self.db), READY_SECONDS)
            database, waiting = "ok", backlog.pending
        except Exception as exc:  # noqa: BLE001 - whatever it is, the database did not answer
            database, waiting = f"not answering ({type(exc).__name__})", None
        last = self.instance.last_handled()
        state = {
            "database": database,
            "role": self.instance.role(),
            "outbox_backlog": waiting,
            "last_update_seconds_ago": None if last is None else round(time.monotonic() - last, 1),
        }
        return web.Response(
            text=json.dumps(state) + "\n",
            content_type="application/json",
            status=200 if database == "ok" else 503,
        )

    async def metrics(self, request: web.Request) -> web.Response:
        if not from_this_machine(request):
            raise web.HTTPNotFound()
        counts = await outbox_store.counts(self.db)
        OUTBOX.set(counts.pending)
        for state, n in (await case_store.counts_by_state(self.db)).items():
            CASES.labels(state).set(n)
        BALLOTS.set(sum((await ballot_store.answered_counts(self.db)).values()))
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )
