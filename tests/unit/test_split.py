"""Long texts split into messages: each piece fits and is valid HTML on its own, and the
pieces together show exactly what the whole text shows."""

from __future__ import annotations

from html import escape

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chat.split import split_html
from bot.standin.html import plain

TAGS = ["b", "i", "u", "s", "code", "blockquote"]

lines = st.lists(
    st.tuples(
        st.sampled_from(["", *TAGS]),
        st.text(min_size=0, max_size=900),
    ),
    min_size=1,
    max_size=40,
)


def html_of(parts: list[tuple[str, str]]) -> str:
    return "\n".join(f"<{t}>{escape(x)}</{t}>" if t else escape(x) for t, x in parts)


def shown(text: str) -> str:
    return "".join(plain(text, "HTML").split())


@settings(max_examples=200, deadline=None)
@given(parts=lines, limit=st.integers(200, 4096))
def test_every_piece_fits_parses_and_nothing_is_lost(
    parts: list[tuple[str, str]], limit: int
) -> None:
    text = html_of(parts)
    pieces = split_html(text, limit)
    assert all(len(p) <= limit for p in pieces)
    for piece in pieces:
        plain(piece, "HTML")  # raises if a tag were left open or an entity cut
    # the same characters in the same order (a cut may drop line breaks only)
    assert "".join(shown(p) for p in pieces) == shown(text)


def test_a_ranking_of_three_hundred_offices_splits_at_line_ends() -> None:
    rows = [f"{n}. 第{n}街道社保所 · 8{n % 10}.5{n % 7}" for n in range(1, 301)]
    pieces = split_html("<b>排名</b>\n\n" + "\n".join(rows))
    assert len(pieces) > 1
    found = [line for p in pieces for line in plain(p, "HTML").splitlines() if "社保所" in line]
    assert found == rows  # every office once, in order, no line cut in two


def test_emoji_count_as_one_character_each() -> None:
    pieces = split_html("😀" * 9000)
    assert [len(p) for p in pieces] == [4096, 4096, 808]
