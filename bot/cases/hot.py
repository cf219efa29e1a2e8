"""Hot issues (热点问题): how many opinions came in, per office, item and channel, and the
topics that recur in their texts, so the plan's 归纳整理 is a command, not a spreadsheet.

Chinese has no spaces between words: texts are segmented with jieba, the well-kept
Chinese word segmenter. A topic counts once per opinion that mentions it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import jieba

from bot.db import cases as case_store
from bot.services import Services

jieba.setLogLevel(logging.WARNING)

# Words too common to be a topic (function words and the vocabulary of every complaint).
STOPWORDS = frozenset(
    """的 了 我 是 在 有 和 就 不 人 都 一 一个 也 很 到 说 要 去 你 会 着 没有 看 好
    自己 这 那 他 她 它 们 我们 你们 他们 还 但 但是 让 被 把 给 对 又 才 吗 吧 呢 啊 呀
    什么 怎么 这个 那个 这样 那样 因为 所以 如果 而且 可以 希望 问题 情况 反映 一下 一次
    时候 现在 已经 没 能 与 及 或 等 为 从 向 上 下 中 里 后 前 次 个 些 该 请 每 多 少 太
    更 最 非常 比较 社保 社保所 街道 工作 办理
    the a an and or of to in on at for is are was were be been it this that with as by
    not no but from have has had we they you he she i my our your their me us them do did
    does so very""".split()  # noqa: SIM905 - a word list reads best as words
)
WORD_RE = re.compile(r"[\w]+", re.UNICODE)


@dataclass(frozen=True)
class HotReport:
    since: dt.datetime
    total: int
    by_unit_item: dict[tuple[str, str], int]
    by_channel: dict[str, int]
    topics: list[tuple[str, int]]


def words(text: str) -> set[str]:
    """The distinct topic words of one text."""
    found = set()
    for token in jieba.cut(text.lower()):
        token = token.strip()
        if len(token) < 2 or token in STOPWORDS or token.isdigit() or not WORD_RE.fullmatch(token):
            continue
        found.add(token)
    return found


def topics(texts: Iterable[str], top: int = 10) -> list[tuple[str, int]]:
    """The words most opinions share, with how many opinions mention each (at least 2)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(words(text))
    return [(w, n) for w, n in counts.most_common(top) if n >= 2]


async def hot_issues(services: Services, unit_id: str | None, days: int) -> HotReport:
    since = services.clock.now() - dt.timedelta(days=days)
    rows = await case_store.texts_since(services.db, since, unit_id)
    by_unit_item: Counter[tuple[str, str]] = Counter()
    by_channel: Counter[str] = Counter()
    for row in rows:
        by_unit_item[(row.unit_id, row.item_id or "-")] += 1
        by_channel[row.channel] += 1
    # segmentation is CPU work: keep it off the event loop
    found = await asyncio.to_thread(topics, [r.text for r in rows])
    return HotReport(since, len(rows), dict(by_unit_item), dict(by_channel), found)
