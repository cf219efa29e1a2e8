"""Telegram's HTML parse mode, as the Bot API checks it.

:func:`parse` turns a message's HTML into its plain text, or raises :class:`EntityError`
with the description Telegram gives ("can't parse entities: …"). It accepts exactly the
tags, attributes and entities of the Bot API's "HTML style" and nothing more, so a bot that
forgets to escape user text fails here the way it would fail against Telegram.
"""

from __future__ import annotations

import re

ALLOWED = {
    "b": (),
    "strong": (),
    "i": (),
    "em": (),
    "u": (),
    "ins": (),
    "s": (),
    "strike": (),
    "del": (),
    "tg-spoiler": (),
    "span": ("class",),
    "a": ("href",),
    "code": ("class",),
    "pre": (),
    "blockquote": ("expandable",),
    "tg-emoji": ("emoji-id",),
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*?)?)\s*(/?)>")
ATTR_RE = re.compile(r'\s*([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|([^\s"\'=<>`]+)))?')
ENTITY_RE = re.compile(r"&(#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[a-zA-Z][a-zA-Z0-9]*;)")


class EntityError(ValueError):
    """The text is not valid Telegram HTML; the message is Telegram's description."""


def _offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _check_attrs(name: str, raw: str, text: str, at: int) -> None:
    position = 0
    raw = raw.strip()
    while position < len(raw):
        match = ATTR_RE.match(raw, position)
        if not match or match.end() == position:
            raise EntityError(
                f"can't parse entities: Unclosed start tag at byte offset {_offset(text, at)}"
            )
        attr = match.group(1).lower()  # unknown attributes of known tags are ignored, as there
        if name == "span" and attr == "class" and match.group(2) != "tg-spoiler":
            raise EntityError(
                f'can\'t parse entities: Unsupported start tag "span" at byte offset '
                f"{_offset(text, at)}"
            )
        position = match.end()


def _unescape_entity(entity: str, text: str, at: int) -> str:
    body = entity[1:-1]
    if body.startswith("#"):
        code = int(body[2:], 16) if body[1:2] in ("x", "X") else int(body[1:])
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise EntityError(
                f"can't parse entities: Invalid HTML entity at byte offset {_offset(text, at)}"
            )
        return chr(code)
    if body in NAMED_ENTITIES:
        return NAMED_ENTITIES[body]
    raise EntityError(
        f'can\'t parse entities: Unsupported HTML entity "{entity}" at byte offset '
        f"{_offset(text, at)}"
    )


def parse(text: str) -> str:
    """The plain text a message shows, or :class:`EntityError` as Telegram would answer."""
    out: list[str] = []
    stack: list[tuple[str, int]] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "<":
            match = TAG_RE.match(text, i)
            if not match:
                raise EntityError(
                    f"can't parse entities: Unclosed start tag at byte offset {_offset(text, i)}"
                )
            closing, name, attrs, _self_closing = match.groups()
            name = name.lower()
            if closing:
                if not stack:
                    raise EntityError(
                        f'can\'t parse entities: Unexpected end tag "{name}" at byte offset '
                        f"{_offset(text, i)}"
                    )
                if stack[-1][0] != name:
                    raise EntityError(
                        f"can't parse entities: Can't find end tag corresponding to start tag "
                        f'"{stack[-1][0]}"'
                    )
                stack.pop()
            else:
                if name not in ALLOWED:
                    raise EntityError(
                        f'can\'t parse entities: Unsupported start tag "{name}" at byte offset '
                        f"{_offset(text, i)}"
                    )
                _check_attrs(name, attrs, text, i)
                stack.append((name, i))
            i = match.end()
        elif ch == "&":
            match = ENTITY_RE.match(text, i)
            if not match:
                raise EntityError(
                    f"can't parse entities: Unsupported HTML entity at byte offset "
                    f"{_offset(text, i)}: escape & as &amp;"
                )
            out.append(_unescape_entity(match.group(0), text, i))
            i = match.end()
        elif ch == ">":
            raise EntityError(
                f"can't parse entities: Unexpected > at byte offset {_offset(text, i)}: "
                "escape > as &gt;"
            )
        else:
            nxt = min(
                (j for j in (text.find("<", i), text.find("&", i), text.find(">", i)) if j != -1),
                default=n,
            )
            out.append(text[i:nxt])
            i = nxt
    if stack:
        name, _at = stack[-1]
        raise EntityError(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{name}\""
        )
    return "".join(out)


def plain(text: str, parse_mode: str | None) -> str:
    """The text a user sees for ``text`` sent with ``parse_mode`` (only HTML is checked)."""
    if parse_mode and parse_mode.upper() == "HTML":
        return parse(text)
    return text
