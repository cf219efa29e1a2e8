"""Storage: one SQLite file in WAL mode, numbered migrations, one function per query.

All SQL of the bot lives in this package. Writes go through :meth:`Database.transaction`
(one writer, serialised, ``BEGIN IMMEDIATE``); reads use a second connection, which in WAL
mode sees only committed data and never waits for the writer.
"""

from bot.db.database import Database, Row, Tx

__all__ = ["Database", "Row", "Tx"]
