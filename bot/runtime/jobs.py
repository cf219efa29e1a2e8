"""Scheduled work. Each job is a shell around a core function a command could call too;
it has a stable name and running it twice does no harm."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from telegram.ext import Application, CallbackContext

from bot.ballots.evaluation import remind as remind_evaluators
from bot.ballots.evaluation import sync_window
from bot.cases.digest import send_digests
from bot.cases.moves import check_deadlines
from bot.chat.flows import expire as expire_flows
from bot.db import inbox
from bot.results.publish import report_deliveries
from bot.services import Services

log = logging.getLogger(__name__)

INBOX_KEEP = dt.timedelta(days=7)


async def prune_inbox(services: Services) -> int:
    return await inbox.prune(services.db, services.clock.now() - INBOX_KEEP)


LEASE = "jobs_lease"  # in bot_data when instances share the database (bot/runtime/leases.py)


def _shell(core: Any) -> Any:
    async def job(context: CallbackContext[Any, Any, Any, Any]) -> None:
        lease = context.bot_data.get(LEASE)
        if lease is not None and not lease.held:
            return  # another instance runs the scheduled work
        services = context.bot_data["services"]
        await core(services)

    job.__name__ = core.__name__
    return job


def schedule(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register the repeating jobs on PTB's JobQueue (APScheduler underneath)."""
    queue = application.job_queue
    if queue is None:
        raise RuntimeError("the job queue is missing: install python-telegram-bot[job-queue]")
    queue.run_repeating(_shell(expire_flows), interval=60, first=5, name="expire_flows")
    queue.run_repeating(_shell(prune_inbox), interval=3600, first=60, name="prune_inbox")
    # Reminders and escalations are keyed in the outbox, so a scan every minute sends each
    # once, and one that fell due while the bot was down goes out at the first scan.
    queue.run_repeating(_shell(check_deadlines), interval=60, first=10, name="check_deadlines")
    # The ballot window follows the campaign's phase dates: a scan sends the ballots once
    # it opens, takes their buttons away once it closes, and reminds before the close.
    queue.run_repeating(_shell(sync_window), interval=60, first=3, name="ballot_window")
    queue.run_repeating(_shell(remind_evaluators), interval=300, first=20, name="ballot_remind")
    # whoever published is told how the delivery went, once it is settled
    queue.run_repeating(_shell(report_deliveries), interval=15, first=15, name="deliveries")
    # organisers who chose a digest of new cases (the default above 30 offices) get it here
    queue.run_repeating(_shell(send_digests), interval=60, first=30, name="case_digests")
