-- 0003: the ballots of the democratic evaluation (民主测评).

-- One ballot per evaluator, unit and item; a changed answer replaces the row.
-- Nobody reads this table by evaluator: only its tallies leave the database.
CREATE TABLE ballots (
    evaluator_id  INTEGER NOT NULL,
    unit_id       TEXT    NOT NULL,
    item_id       TEXT    NOT NULL,
    category      TEXT    NOT NULL,
    answer        TEXT    NOT NULL
        CHECK (answer IN ('satisfied', 'basic', 'unsatisfied', 'unknown')),
    answered_at   TEXT    NOT NULL,
    PRIMARY KEY (evaluator_id, unit_id, item_id)
);
CREATE INDEX ballots_tally ON ballots (unit_id, item_id, category, answer);

-- Every answer, change and withdrawal, appended, each entry hashing the one before
-- (the plan's 严禁作假). Voters appear as keyed pseudonyms, never as accounts.
CREATE TABLE ballot_log (
    seq       INTEGER PRIMARY KEY,
    voter     TEXT    NOT NULL,
    unit_id   TEXT    NOT NULL,
    item_id   TEXT    NOT NULL,
    category  TEXT    NOT NULL,
    answer    TEXT,                -- NULL: the answer was withdrawn
    at        TEXT    NOT NULL,
    prev      TEXT    NOT NULL,
    hash      TEXT    NOT NULL UNIQUE,
    origin    TEXT    NOT NULL UNIQUE  -- the update that made it: applied once
);

-- The messages that carry ballots, to take their buttons away at the close.
CREATE TABLE ballot_messages (
    evaluator_id  INTEGER NOT NULL,
    unit_id       TEXT    NOT NULL,
    item_id       TEXT    NOT NULL,
    chat_id       INTEGER NOT NULL,
    message_id    INTEGER NOT NULL,
    PRIMARY KEY (evaluator_id, unit_id, item_id)
);

-- The ballot window: 'auto' follows the evaluate phase; organisers may open or close it.
INSERT INTO meta (key, value) VALUES ('ballot_window', 'auto');
