"""Full-text search in Chinese (design §11): a text is kept in the index as its words, found
by jieba (the segmenter /hot already uses) in its search mode, which also gives the shorter
words inside a long one (社会保险 → 社会, 保险, 社会保险), plus every single Han character,
so that a word inside a sentence is found whatever the segmenter made of its neighbours.

A query is segmented the same way; every one of its words must be found. The index
(``case_words``) holds only these words, written when a case is filed: on SQLite an FTS5
table (migration 0009), on PostgreSQL the words as an array in a GIN index.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import jieba

jieba.setLogLevel(logging.WARNING)

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
TOKEN = re.compile(r"\w+", re.UNICODE)


def _clean(token: str) -> str:
    return token.strip().lower()


def words(text: str) -> str:
    """The index entry of a text: its words and its Han characters, space-separated."""
    found: list[str] = []
    seen: set[str] = set()
    for token in jieba.cut_for_search(text):
        for part in TOKEN.findall(_clean(token)):
            if part not in seen:
                seen.add(part)
                found.append(part)
    for char in HAN.findall(text):
        if char not in seen:
            seen.add(char)
            found.append(char)
    return " ".join(found)


def query_words(query: str) -> list[str]:
    """The words a query asks for (each must be found), in the order typed."""
    asked: list[str] = []
    for token in jieba.cut(query):
        for part in TOKEN.findall(_clean(token)):
            if part not in asked:
                asked.append(part)
    return asked


def match_expression(asked: Sequence[str]) -> str:
    """The FTS5 MATCH expression asking for every word, each quoted (so nothing typed is
    read as FTS5 syntax)."""
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in asked)
