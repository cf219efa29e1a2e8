-- 0005: running tallies of the ballots, kept in the same transaction as every ballot change,
-- so that /rank reads a few thousand counts instead of grouping a million rows.
-- `evalbot verify` checks them against the ballots and against the log.

CREATE TABLE tallies (
    unit_id   TEXT    NOT NULL,
    item_id   TEXT    NOT NULL,
    category  TEXT    NOT NULL,
    answer    TEXT    NOT NULL,
    count     INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (unit_id, item_id, category, answer)
) WITHOUT ROWID;

INSERT INTO tallies (unit_id, item_id, category, answer, count)
SELECT unit_id, item_id, category, answer, COUNT(*) FROM ballots
GROUP BY unit_id, item_id, category, answer;
