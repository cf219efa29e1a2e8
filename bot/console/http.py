"""What the console's routes share: who asks (:class:`Asker`, set by the sign-in
middleware under :data:`ASKER`), who a route lets in (:class:`Door`), and how paths and
downloads are read and named."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from urllib.parse import quote

from aiohttp import web

from bot.console import views as console


@dataclass(frozen=True)
class Asker:
    """Who asks, and how they proved it."""

    who: console.Viewer
    csrf: str | None  # a cookie session's token; None for init data (no cookie, no CSRF)


class Door(Enum):
    """Who a console route lets in."""

    OPEN = "open"  # anyone: the sign-in link, the script, the font
    ANYONE = "anyone"  # anyone; who asks is known if they proved it (a form's token checked)
    TEAM = "team"  # signed in with a role (organiser, supervisor, staff): 401 or 403 otherwise
    PAGE = "page"  # the same, a page: the sign-in shell or the residents' message otherwise
    ORGANISER = "organiser"  # a page for organisers alone (the workbench): 403 to the team


# request[ASKER]: who asks (the middleware signed_in says)
ASKER: web.RequestKey[Asker | None] = web.RequestKey("asker")


def signed(request: web.Request) -> Asker:
    """Who asks, behind a door that let only a signed-in person through."""
    asker = request[ASKER]
    assert asker is not None
    return asker


# the days a filter may name (a date beyond them cannot be a case's, and far ones do not
# fit a datetime once the campaign's time zone is applied)
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


def number(text: str, least: int = 1) -> int | None:
    """A number in a path as the database can hold it (64-bit), or None: a path with
    anything else names nothing (404), whatever its size."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    value = int(text)
    return value if value >= least else None


def disposition(filename: str, *, inline: bool) -> str:
    """A Content-Disposition header that keeps a Chinese file name (RFC 6266/5987)."""
    ascii_name = "".join(
        c if c.isascii() and c not in '"\\;' and c.isprintable() else "_" for c in filename
    )
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
