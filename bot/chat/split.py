"""Long texts as several messages, each within Telegram's 4,096 characters.

Telegram counts the characters (code points) a message shows; the HTML we send is never
shorter than what it shows, so pieces whose HTML fits always fit. A text is cut at a
blank line if it can be, else at a line's end, else (a single line longer than a message)
after a space or a list's separator, else anywhere outside a tag or an entity. A tag left
open at a cut (a quote spanning the cut) is closed at the end of the piece and opened
again at the start of the next, so each piece is valid HTML on its own. Nothing is
dropped and nothing is repeated.
"""

from __future__ import annotations

import re

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024

TOKEN = re.compile(r"<[^>]*>|&[#A-Za-z0-9]+;|\n|[^<&\n]", re.DOTALL)
TAG = re.compile(r"<\s*(/?)\s*([A-Za-z0-9-]+)")
SEPARATORS = (" ", "、", "，", ",", "；", ";")
Cut = tuple[int, int, list[tuple[str, str]]]  # a place to cut: where, the size, open tags


def split_html(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters of HTML each."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    tokens = TOKEN.findall(text)
    opened: list[tuple[str, str]] = []  # (name, opening tag) of the tags open here
    start = 0
    while start < len(tokens):
        prefix = "".join(tag for _, tag in opened)
        size = len(prefix)
        stack = list(opened)
        # the last place to cut of each kind: (end, size there, the tags open there)
        blank: Cut | None = None
        line: Cut | None = None
        word: Cut | None = None  # after a space or a list's separator
        anywhere: Cut | None = None
        end = start
        while end < len(tokens):
            token = tokens[end]
            closers = sum(len(name) + 3 for name, _ in stack)
            if size + len(token) + closers > limit:
                break
            size += len(token)
            stack = _after(stack, token)
            end += 1
            here = (end, size, list(stack))
            anywhere = here
            if token in SEPARATORS:
                word = here
            if token == "\n":
                line = here
                if end >= 2 and tokens[end - 2] == "\n":
                    blank = here
        if end < len(tokens):
            chosen = next(
                c
                for c in (
                    blank if blank and blank[1] > limit // 2 else None,
                    line if line and line[1] > limit // 4 else None,
                    word if word and word[1] > limit // 2 else None,
                    anywhere,
                )
                if c is not None
            )
            end, _, stack = chosen
        cut = end
        if cut <= start:
            raise ValueError("a limit shorter than one tag")
        body = "".join(tokens[start:cut])
        closing = "".join(f"</{name}>" for name, _ in reversed(stack))
        if cut < len(tokens):
            pieces.append((prefix + body).rstrip("\n") + closing)
        else:
            pieces.append(prefix + body)
        opened = stack
        start = cut
        while start < len(tokens) and tokens[start] == "\n":
            start += 1  # a piece does not begin with empty lines
    return [p for p in pieces if p.strip()]


def _after(stack: list[tuple[str, str]], token: str) -> list[tuple[str, str]]:
    """The open tags after ``token``."""
    if not token.startswith("<"):
        return stack
    found = TAG.match(token)
    if found is None or token.endswith("/>"):
        return stack
    closing, name = found.group(1) == "/", found.group(2).lower()
    if not closing:
        return [*stack, (name, token)]
    for i in range(len(stack) - 1, -1, -1):
        if stack[i][0] == name:
            return stack[:i] + stack[i + 1 :]
    return stack
