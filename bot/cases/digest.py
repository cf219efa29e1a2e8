"""New cases at a city's scale (design §11): an organiser gets each new case as its own
message, or a digest every N minutes (or daily): one message with how many came in per
office. The default follows the campaign's size: each case up to DIGEST_FROM offices, an
hourly digest above. The unit's staff always get each case of their office.

An organiser's choice is kept in ``meta`` (``newcases:<id>``: minutes, 0 for each case);
a digest's progress too (``digest:<id>``: the newest case counted, and when it was sent).
"""

from __future__ import annotations

import datetime as dt
import json

from bot.chat import keyboards, notify
from bot.db import ballots as meta_store
from bot.db import cases as case_store
from bot.services import Services

EACH = 0  # minutes: every case as its own message
HOURLY, DAILY = 60, 1440
DIGEST_FROM = 30  # offices: above this, organisers get an hourly digest unless they choose
LEAST, MOST = 5, DAILY  # the periods an organiser may choose, in minutes
SHOWN = 30  # offices named in a digest (the rest summed)


def default_every(services: Services) -> int:
    return EACH if len(services.campaign.units) <= DIGEST_FROM else HOURLY


async def every(services: Services, organiser_id: int) -> int:
    """How often this organiser hears of new cases, in minutes (0: each case)."""
    chosen = await meta_store.get_meta(services.db, f"newcases:{organiser_id}")
    return int(chosen) if chosen is not None else default_every(services)


async def per_case(services: Services) -> list[int]:
    """The organisers who get each new case as its own message."""
    return [o for o in sorted(services.campaign.organisers) if await every(services, o) == EACH]


async def choose(services: Services, organiser_id: int, minutes: int) -> None:
    """Each case (0) or a digest every ``minutes``; a digest starts from the next case."""
    newest = await case_store.newest_case(services.db)
    now = services.clock.now()
    async with services.db.transaction() as tx:
        await meta_store.set_meta(tx, f"newcases:{organiser_id}", str(minutes))
        state = {"last": newest, "at": now.isoformat()}
        await meta_store.set_meta(tx, f"digest:{organiser_id}", json.dumps(state))


async def send_digests(services: Services) -> int:
    """Each organiser on a digest whose period has passed and who has new cases gets one
    message; how many were sent. (A job every minute; a replay sends nothing twice.)"""
    now = services.clock.now()
    sent = 0
    for organiser in sorted(services.campaign.organisers):
        minutes = await every(services, organiser)
        if minutes == EACH:
            continue
        key = f"digest:{organiser}"
        stored = await meta_store.get_meta(services.db, key)
        if stored is None:  # a digest by default: from the cases filed from now on
            await choose_default(services, organiser, now)
            continue
        state = json.loads(stored)
        since = dt.datetime.fromisoformat(state["at"])
        if now - since < dt.timedelta(minutes=minutes):
            continue
        counts, newest = await case_store.cases_after(services.db, int(state["last"]))
        if not counts:
            continue
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        names = [
            (unit, n) for unit_id, n in ranked if (unit := services.campaign.known_unit(unit_id))
        ]
        async with services.db.transaction() as tx:
            await notify.notify(
                tx,
                services,
                organiser,
                "case/digest",
                f"digest:{organiser}:{newest}",
                values={
                    "total": sum(counts.values()),
                    "since": since,
                    "offices": names[:SHOWN],
                    "rest": sum(n for _, n in names[SHOWN:]),
                    "rest_offices": len(names[SHOWN:]),
                },
                keyboard=keyboards.digest(services.console_url),
            )
            await meta_store.set_meta(tx, key, json.dumps({"last": newest, "at": now.isoformat()}))
        sent += 1
    if sent:
        services.outbox.wake()
    return sent


async def choose_default(services: Services, organiser: int, now: dt.datetime) -> None:
    newest = await case_store.newest_case(services.db)
    async with services.db.transaction() as tx:
        state = {"last": newest, "at": now.isoformat()}
        await meta_store.set_meta(tx, f"digest:{organiser}", json.dumps(state))
