"""Flows in progress, one row per user, kept in the database so restarts resume them
(the table keeps its first name, ``drafts``).

A row exists only while its flow is in progress: ending a flow (filed, cancelled, timed
out) deletes it. Whether an update was applied is recorded elsewhere
(:func:`bot.db.users.mark_applied`), so recording it never touches a flow.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.clock import iso, parse_iso
from bot.db.database import Database, Row, Tx, Writer

FLOW_COLUMNS = "flow, step, data, prompt_chat_id, prompt_msg_id, started_at, updated_at"


@dataclass(frozen=True)
class Flow:
    user_id: int
    kind: str
    step: str
    data: Mapping[str, Any] = field(default_factory=dict)
    prompt_chat_id: int | None = None
    prompt_msg_id: int | None = None
    started_at: dt.datetime | None = None  # None: a new flow, started when first saved
    updated_at: dt.datetime | None = None

    @property
    def stamp(self) -> int:
        """Which run of a flow this is (its start in milliseconds): buttons that end a
        flow carry it, so a button left over from an earlier run ends nothing."""
        return int(self.started_at.timestamp() * 1000) if self.started_at else 0


def read_flow(user_id: int, row: Row) -> Flow:
    """A flow from a row holding :data:`FLOW_COLUMNS`."""
    return Flow(
        user_id=user_id,
        kind=row["flow"],
        step=row["step"],
        data=json.loads(row["data"]),
        prompt_chat_id=row["prompt_chat_id"],
        prompt_msg_id=row["prompt_msg_id"],
        started_at=parse_iso(row["started_at"]),
        updated_at=parse_iso(row["updated_at"]),
    )


async def get_flow(db: Database, user_id: int) -> Flow | None:
    row = await db.fetchone(f"SELECT {FLOW_COLUMNS} FROM drafts WHERE user_id = ?", (user_id,))
    return read_flow(user_id, row) if row else None


async def save_flow(tx: Writer, flow: Flow, now: dt.datetime) -> None:
    """Create or replace the user's flow; a flow without ``started_at`` starts now."""
    await tx.execute(
        """
        INSERT INTO drafts (user_id, flow, step, data, prompt_chat_id, prompt_msg_id,
                            started_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (user_id) DO UPDATE SET
            flow = excluded.flow, step = excluded.step, data = excluded.data,
            prompt_chat_id = excluded.prompt_chat_id, prompt_msg_id = excluded.prompt_msg_id,
            started_at = excluded.started_at, updated_at = excluded.updated_at
        """,
        (
            flow.user_id,
            flow.kind,
            flow.step,
            json.dumps(flow.data, ensure_ascii=False),
            flow.prompt_chat_id,
            flow.prompt_msg_id,
            iso(flow.started_at or now),
            iso(now),
        ),
    )


async def end_flow(tx: Writer, user_id: int, started: dt.datetime | None = None) -> None:
    """End the user's flow: the run that began at ``started`` only, if given (a Cancel
    button left over from an earlier run ends nothing)."""
    if started is None:
        await tx.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))
    else:
        await tx.execute(
            "DELETE FROM drafts WHERE user_id = ? AND started_at = ?", (user_id, iso(started))
        )


async def take_expired(tx: Tx, idle_since: dt.datetime) -> list[Flow]:
    """End the flows untouched since ``idle_since``; return them as they were."""
    rows = await tx.execute_fetchall(
        f"SELECT user_id, {FLOW_COLUMNS} FROM drafts WHERE flow != '' AND updated_at < ?",
        (iso(idle_since),),
    )
    expired = [read_flow(r["user_id"], r) for r in rows]
    await tx.executemany("DELETE FROM drafts WHERE user_id = ?", [(d.user_id,) for d in expired])
    return expired
