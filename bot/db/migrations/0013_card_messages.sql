-- 0013: every message that was an evaluator's ballot card (design §6). A crash can leave
-- an evaluator with two cards of a round, and a press counts from either: a press on a card
-- that is no longer the one in use is known by its message, even once it shows no buttons.
CREATE TABLE card_messages (
    round       TEXT    NOT NULL,
    user_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    PRIMARY KEY (user_id, message_id)
);

INSERT INTO card_messages (round, user_id, message_id)
SELECT round, user_id, message_id FROM ballot_cards WHERE message_id IS NOT NULL;
