"""Leases among the instances sharing a database (design §13): a named role (the poller,
the scheduled work, an instance's own heartbeat) held by one instance until it expires,
renewed by its holder, taken over by another once expired. Moments are wall-clock seconds
(time.time()) on every instance's machine, kept in step by NTP."""

from __future__ import annotations

from bot.db.database import Database


async def take(db: Database, name: str, holder: str, ttl: float, now: float) -> bool:
    """Take the lease ``name`` for ``holder`` until ``now + ttl``, or renew it: whether
    ``holder`` holds it now (False: another holder's has not expired)."""
    async with db.transaction() as tx:
        cursor = await tx.execute(
            "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
            "expires_at = excluded.expires_at "
            "WHERE leases.holder = excluded.holder OR leases.expires_at < ? RETURNING holder",
            (name, holder, now + ttl, now),
        )
        row = await cursor.fetchone()
        await cursor.close()
    return row is not None


async def give_back(db: Database, name: str, holder: str) -> None:
    """End ``holder``'s lease now (a clean stop), so another takes over at once."""
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))


async def holders(db: Database, prefix: str, now: float) -> set[str]:
    """The holders of the unexpired leases whose names start with ``prefix``."""
    rows = await db.fetchall(
        "SELECT holder FROM leases WHERE name LIKE ? AND expires_at >= ?", (prefix + "%", now)
    )
    return {str(r[0]) for r in rows}


async def reap(db: Database, prefix: str, now: float) -> set[str]:
    """Remove the expired leases whose names start with ``prefix`` (an instance's heartbeat:
    the instance died); the holders removed. One caller gets each, so what a dead
    instance left undone is taken up once."""
    async with db.transaction() as tx:
        rows = await tx.execute_fetchall(
            "DELETE FROM leases WHERE name LIKE ? AND expires_at < ? RETURNING holder",
            (prefix + "%", now),
        )
        return {str(r[0]) for r in rows}
