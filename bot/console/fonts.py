"""A web font for Chinese, so pages read on a machine without CJK fonts (design §11).

The packaged Noto Sans CJK SC (the chart's font) cut down with fontTools to what a page of
this bot needs: ASCII, common punctuation and the 6,763 characters of GB 2312, which cover
the names of offices and items and nearly all of what residents write. WOFF2, about 1 MB,
made once (about ten seconds) and kept in the user's cache directory; pages name it after
the system's own CJK fonts, so a browser that has one never downloads it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import threading
from pathlib import Path

import noto_cjk_sans_otc
from fontTools import subset
from fontTools.ttLib import TTFont

SC_FACE = 2  # Noto Sans CJK SC in the collection
PUNCTUATION = "，。、；：？！“”‘’（）《》【】…—·％＋－／＝～¥°±×÷€①②③④⑤⑥⑦⑧⑨⑩"
_lock = threading.Lock()
_font: bytes | None = None


def characters() -> str:
    chars = {chr(c) for c in range(0x20, 0x7F)}
    for high in range(0xB0, 0xF8):
        for low in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes([high, low]).decode("gb2312"))
    chars.update(PUNCTUATION)
    return "".join(sorted(chars))


def cache_path() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    source = Path(noto_cjk_sans_otc.FONT_PATH)
    tag = hashlib.sha256(f"{source.stat().st_size}:{characters()}".encode()).hexdigest()[:16]
    return base / "evalbot" / f"noto-sans-sc-{tag}.woff2"


def build() -> bytes:
    font = TTFont(str(noto_cjk_sans_otc.FONT_PATH), fontNumber=SC_FACE, lazy=True)
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = []
    options.hinting = False
    options.desubroutinize = True
    cutter = subset.Subsetter(options)
    cutter.populate(text=characters())
    cutter.subset(font)
    out = io.BytesIO()
    font.flavor = "woff2"
    font.save(out)
    return out.getvalue()


def web_font() -> bytes:
    """The font's bytes: from memory, from the cache, or made now (thread-safe)."""
    global _font
    with _lock:
        if _font is None:
            path = cache_path()
            try:
                _font = path.read_bytes()
            except OSError:
                _font = build()
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    partial = path.with_suffix(f".{os.getpid()}.part")
                    partial.write_bytes(_font)
                    partial.replace(path)
                except OSError:
                    pass  # a read-only home: made again next start
        return _font
