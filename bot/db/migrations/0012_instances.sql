-- 0012: several instances on one database (design §13). Both dialects; they differ only in
-- the type of a moment (REAL here, DOUBLE PRECISION on PostgreSQL) and of a chat (INTEGER
-- here as in the outbox, TEXT on PostgreSQL as in its outbox).
--
-- Moments in these tables are wall-clock seconds since 1970 (time.time()), not the bot's
-- clock: a lease's expiry and a chat's pace are about real time between machines.

-- who holds a role among the instances (the poller, the scheduled work, each instance's
-- own heartbeat), until when; taken and renewed by one statement (bot/db/leases.py)
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  REAL NOT NULL
);

-- which instance made an outbox call: at a start, only the calls of instances that are gone
-- are given up as "may have been sent"
ALTER TABLE outbox ADD COLUMN sender TEXT;

-- the pace every instance keeps together: the next free slot of the overall rate and the
-- end of a 429's retry_after (one row), and when each chat may take its next message
CREATE TABLE send_pace (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    next_at     REAL NOT NULL,
    held_until  REAL NOT NULL
);
INSERT INTO send_pace (id, next_at, held_until) VALUES (1, 0, 0);

CREATE TABLE chat_pace (
    chat_id   INTEGER PRIMARY KEY,
    ready_at  REAL NOT NULL
);
