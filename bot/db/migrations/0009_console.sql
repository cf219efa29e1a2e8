-- 0009: the web console (design §11).
--
-- What the console's figures per office need is kept on the case when a move makes it
-- (bot/cases.py), so that the overview of 100,000 cases is one pass over one table:
--   responded_at   the first move out of "filed" (verification started);
--   responded_late 1 when that came after the verification deadline;
--   finished_at    when the office finished (moved to "rectified" or "closed"); cleared
--                  when the case is reopened;
--   finished_late  1 when it finished after the deadline in force at that moment;
--   closed_at      when it was closed;
--   reopened       how often the resident's 不满意 reopened it.
-- Existing cases get them from their history.

ALTER TABLE cases ADD COLUMN responded_at TEXT;
ALTER TABLE cases ADD COLUMN responded_late INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN finished_at TEXT;
ALTER TABLE cases ADD COLUMN finished_late INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN closed_at TEXT;
ALTER TABLE cases ADD COLUMN reopened INTEGER NOT NULL DEFAULT 0;

-- the deadline in force before each event: the last one an earlier event set
CREATE TEMP TABLE event_due AS
SELECT e.id, e.case_id, e.at, e.from_state, e.to_state,
       (SELECT p.due_at FROM case_events p
         WHERE p.case_id = e.case_id AND p.id < e.id AND p.due_at IS NOT NULL
         ORDER BY p.id DESC LIMIT 1) AS due
FROM case_events e;

UPDATE cases SET
    responded_at = (SELECT MIN(d.at) FROM event_due d
                     WHERE d.case_id = cases.id AND d.from_state = 'filed'),
    reopened = (SELECT COUNT(*) FROM event_due d
                 WHERE d.case_id = cases.id AND d.to_state = 'reopened'),
    closed_at = CASE WHEN state = 'closed' THEN
        (SELECT MAX(d.at) FROM event_due d WHERE d.case_id = cases.id AND d.to_state = 'closed')
    END;
UPDATE cases SET responded_late = COALESCE((
    SELECT d.due IS NOT NULL AND d.at > d.due FROM event_due d
     WHERE d.case_id = cases.id AND d.from_state = 'filed' ORDER BY d.id LIMIT 1), 0);

-- recorded by an organiser at a later stage than "filed": responded when filed
UPDATE cases SET responded_at = filed_at
 WHERE responded_at IS NULL
   AND EXISTS (SELECT 1 FROM case_events e
                WHERE e.case_id = cases.id AND e.from_state IS NULL AND e.to_state != 'filed');

-- finished: the first move to rectified or closed since the last reopening
CREATE TEMP TABLE finish AS
SELECT c.id AS case_id,
       (SELECT d.id FROM event_due d
         WHERE d.case_id = c.id AND d.to_state IN ('rectified', 'closed')
           AND d.id > COALESCE((SELECT MAX(r.id) FROM case_events r
                                 WHERE r.case_id = c.id AND r.to_state = 'reopened'), 0)
         ORDER BY d.id LIMIT 1) AS event_id
FROM cases c WHERE c.state IN ('rectified', 'closed');
UPDATE cases SET
    finished_at = (SELECT d.at FROM finish f JOIN event_due d ON d.id = f.event_id
                    WHERE f.case_id = cases.id),
    finished_late = COALESCE((SELECT d.due IS NOT NULL AND d.at > d.due
                                FROM finish f JOIN event_due d ON d.id = f.event_id
                               WHERE f.case_id = cases.id), 0);
DROP TABLE finish;
DROP TABLE event_due;

CREATE INDEX cases_by_filed ON cases (filed_at);

-- the words of each case's text (bot/search.py); rowid = the case's id
CREATE VIRTUAL TABLE case_words USING fts5(words, content='', tokenize='unicode61');
INSERT INTO case_words (rowid, words) SELECT id, evalbot_words(text) FROM cases;

-- a /console link: single use, ten minutes, bound to the account that asked; only the
-- token's hash is kept, so a copy of the database opens nothing
CREATE TABLE console_links (
    token_hash  TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    expires_at  TEXT    NOT NULL,
    used_at     TEXT
);

-- a browser's console session (its cookie holds the id; only the hash is kept here)
CREATE TABLE console_sessions (
    id_hash     TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    csrf        TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL
);
