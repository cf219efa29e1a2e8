"""Callback data: whatever a client sends, decode() gives a well-formed callback or None."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.chat.callbacks import ARITY, MAX_BYTES, NUMBERS, Kind, decode, encode

pieces = st.one_of(st.text(max_size=10), st.sampled_from(["1", "٣", "²", "0", "12", "-1", ""]))


@given(st.one_of(st.text(max_size=80), st.builds(":".join, st.lists(pieces, max_size=5))))
def test_decode_takes_anything(data: str) -> None:
    callback = decode(data)
    if callback is None:
        return
    assert len(callback.args) == ARITY[callback.kind]
    assert len(data.encode()) <= MAX_BYTES
    if callback.kind in NUMBERS:
        int(callback.args[NUMBERS[callback.kind]])  # never raises


def test_what_encode_makes_decode_reads() -> None:
    assert decode(encode(Kind.BALLOT, "dongjie", "service", 3)).args == ("dongjie", "service", "3")  # type: ignore[union-attr]
    assert decode("b:dongjie:service:٣") is None
    assert decode("k:²") is None
    assert decode("v:1") is None  # a move needs its name
