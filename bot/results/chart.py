"""The ranking as a chart: a PNG drawn with Pillow, Chinese names in Noto Sans CJK SC."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import noto_cjk_sans_otc
from PIL import Image, ImageDraw, ImageFont

from bot.chat import labels
from bot.db.results import RankingRow
from bot.services import Services
from scoring import fmt

SC_FACE = 2  # Noto Sans CJK SC in the collection: simplified Chinese glyph forms


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(noto_cjk_sans_otc.FONT_PATH), size, index=SC_FACE)


def chart_png(
    rows: list[RankingRow], title: str, threshold: Decimal, no_score: str, lang: str = "zh"
) -> bytes:
    """A horizontal bar chart of the composites, the offices named in ``lang`` (drawn in
    Noto Sans CJK SC); units below the threshold in red, the threshold as a line."""
    label_font, value_font = font(22), font(22)
    names = [f"{row.rank}. " if row.rank else "— " for row in rows]
    names = [place + row.name_in(lang) for place, row in zip(names, rows, strict=True)]
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    widest = max((measure.textlength(n, font=label_font) for n in names), default=0)
    width, row_h, right, top = 1100, 54, 120, 90
    left = int(min(max(330, widest + 48), 560))  # long English names get the room
    height = top + row_h * max(1, len(rows)) + 40
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((24, 24), title, font=font(30), fill="#111111")
    span = width - left - right
    x_threshold = left + span * float(threshold) / 100
    for n, row in enumerate(rows):
        y = top + n * row_h
        draw.text((24, y + 12), names[n], font=label_font, fill="#111111")
        if row.composite:
            value = float(row.composite)
            colour = "#c62828" if row.flagged else "#1565c0"
            draw.rectangle((left, y + 10, left + span * value / 100, y + row_h - 10), fill=colour)
            draw.text(
                (left + span * value / 100 + 10, y + 12),
                row.composite,
                font=value_font,
                fill="#111111",
            )
        else:
            draw.text((left, y + 12), no_score, font=value_font, fill="#757575")
    for y in range(top - 10, height - 30, 12):  # the threshold, dashed
        draw.line((x_threshold, y, x_threshold, y + 6), fill="#757575", width=2)
    draw.text((x_threshold - 14, height - 32), fmt(threshold, 0), font=font(18), fill="#757575")
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def ranking_chart(services: Services, rows: list[RankingRow], lang: str) -> bytes:
    t = services.texts
    title = t.gettext(lang, labels.CHART_TITLE, campaign=services.campaign.title(lang))
    no_score = t.gettext(lang, labels.NO_SCORE)
    return chart_png(rows, title, services.campaign.scoring.threshold, no_score, lang)
