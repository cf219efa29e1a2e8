-- 0008: the secret ballot holds against a copy of the database (design §6), and each
-- evaluator's ballot is one card.
--
-- Ballots are kept under the evaluator's keyed pseudonym, never their account; the key
-- lives outside the database (bot/ballot_key.py), so a copy of this file cannot tell whose
-- ballot is whose. The functions called here compute with that key (the code registers
-- them before migrating; the key that was kept in `meta` until now has been moved to its
-- own file first, so the pseudonyms the log already holds stay the same).

CREATE TABLE ballots_by_voter (
    voter        TEXT    NOT NULL,           -- the keyed pseudonym (as in the log)
    unit_id      TEXT    NOT NULL,
    item_id      TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    answer       TEXT    NOT NULL
        CHECK (answer IN ('satisfied', 'basic', 'unsatisfied', 'unknown')),
    answered_at  TEXT    NOT NULL,
    PRIMARY KEY (voter, unit_id, item_id)    -- one vote per evaluator, unit and item
);
INSERT INTO ballots_by_voter (voter, unit_id, item_id, category, answer, answered_at)
SELECT evalbot_pseudonym(evaluator_id), unit_id, item_id, category, answer, answered_at
FROM ballots;
DROP TABLE ballots;
ALTER TABLE ballots_by_voter RENAME TO ballots;
CREATE INDEX ballots_tally ON ballots (unit_id, item_id, category, answer);

-- The update that made a change, keyed too: the inbox knows who sent each update.
UPDATE ballot_log SET origin = evalbot_origin(origin) WHERE origin LIKE 'update:%';

-- The inbox no longer keeps who pressed which answer once the answer is recorded.
UPDATE inbox SET body = '{}', lane = 0
WHERE json_valid(body) AND json_extract(body, '$.callback_query.data') LIKE 'b:%';

-- One card per evaluator: which message it is and which of its pages it shows; never
-- the answers (those are rendered from `ballots` when the card is sent or edited).
DROP TABLE ballot_messages;
CREATE TABLE ballot_cards (
    user_id     INTEGER PRIMARY KEY,         -- the evaluator's account
    message_id  INTEGER,                     -- NULL until the card has been sent
    view        TEXT    NOT NULL DEFAULT 'u:0',  -- u:<office> | l:<list page> | t (to do)
    final       INTEGER NOT NULL DEFAULT 0   -- 1: shows the final answers, no buttons
);

-- The key is no longer kept here, only its fingerprint (which reveals nothing of it).
DELETE FROM meta WHERE key = 'ballot_secret';
