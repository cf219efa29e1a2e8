"""Storage: SQLite (one file in WAL mode) or PostgreSQL, numbered migrations, one function
per query.

All SQL of the bot lives in this package. Writes go through :meth:`Database.transaction`
(one writer, serialised); reads never wait for the writer. :func:`open_database` picks the
backend from the target (a file or a ``postgresql://`` URL).
"""

from bot.db.backends import open_database
from bot.db.database import Database, Row, Tx

__all__ = ["Database", "Row", "Tx", "open_database"]
