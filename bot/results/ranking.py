"""Results (design §5, §7): the tallies from SQL, the numbers from ``scoring``, the ranking
as text, as a chart and as a page; daily-work scores, proposals and publication.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import noto_cjk_sans_otc
from PIL import Image, ImageDraw, ImageFont

from bot.args import parse_decimal
from bot.campaign import Campaign
from bot.chat import labels, notify
from bot.db import ballots as ballot_store
from bot.db import results as store
from bot.db import tallies as tally_store
from bot.errors import UserError
from bot.results.findings import unit_findings
from bot.rounds import Round
from bot.services import Services
from bot.texts import DEFAULT_LANG
from scoring import Change, Counts, Ranking, UnitInput, change, fmt, rank

SC_FACE = 2  # Noto Sans CJK SC in the collection: simplified Chinese glyph forms


async def unit_inputs(services: Services, round_: Round | None = None) -> list[UnitInput]:
    """What scoring needs, per unit of a round (None: the current round): ballot counts (the
    running tallies), findings, daily score."""
    campaign = round_.campaign if round_ and round_.campaign else services.campaign
    round_id = round_.id if round_ else None
    ballots: dict[str, dict[tuple[str, str], Counts]] = {u.id: {} for u in campaign.units}
    for c in await tally_store.by_category(services.db, round_id):
        if c.unit_id in ballots:
            ballots[c.unit_id][(c.item_id, c.category)] = Counts(
                c.satisfied, c.basic, c.unsatisfied, c.unknown
            )
    findings = await unit_findings(services, round_id)
    daily = await store.daily_scores(services.db, round_id)
    return [
        UnitInput(
            unit.id,
            unit.name,
            ballots[unit.id],
            findings.get(unit.id, ()),
            daily.get(unit.id),
        )
        for unit in campaign.units
    ]


async def current_ranking(services: Services) -> Ranking:
    """The ranking as it stands, computed again only when what it is computed from changed
    (``scores_fingerprint``): with 100,000 cases one computation takes longer than the
    console's overview may (bench_console)."""
    ranking = await round_ranking(services, None)
    assert ranking is not None
    return ranking


async def round_ranking(services: Services, round_: Round | None) -> Ranking | None:
    """A round's ranking as it stands now (None: the current round's): an earlier round's
    ballots, daily-work scores and findings no longer change, but its cases may still be
    substantiated, so it is computed like the current one (and cached the same way). None
    when the round's campaign file was not kept."""
    if round_ is not None and round_.id == services.campaign.id:
        round_ = None
    campaign = services.campaign if round_ is None else round_.campaign
    if campaign is None:
        return None
    key = campaign.id
    fingerprint = await store.scores_fingerprint(services.db)
    if round_ is not None:  # an earlier round's ballots and daily scores no longer change
        fingerprint = fingerprint[2:4]  # its cases' moves, and findings that name its cases
    cached = services.ranking_cache.get(key)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    ranking = rank(
        await unit_inputs(services, round_), campaign.scoring, [i.id for i in campaign.items]
    )
    services.ranking_cache[key] = (fingerprint, ranking)
    return ranking


@dataclass(frozen=True)
class History:
    """Each office over the rounds (design §12): every round's ranking as it stands, and the
    change of the current round's figures from the previous round's."""

    rounds: tuple[tuple[Round, Ranking], ...]  # the rounds whose file is known, in order
    previous: Round | None
    changes: dict[str, Change]  # per office scored in both rounds

    def series(self, unit_id: str) -> list[tuple[Round, Decimal | None]]:
        """An office's composite (as shown) in every round it was evaluated in."""
        found = []
        for round_, ranking in self.rounds:
            try:
                found.append((round_, ranking.get(unit_id).result.published))
            except KeyError:
                continue
        return found


async def history(services: Services) -> History:
    rankings: list[tuple[Round, Ranking]] = []
    for round_ in services.rounds:  # the current one last (bot.rounds.load)
        ranking = await round_ranking(services, round_)
        if ranking is not None:
            rankings.append((round_, ranking))
    # the current round is the last; the previous is the last earlier one whose file is kept
    previous = rankings[-2][0] if len(rankings) > 1 else None
    changes: dict[str, Change] = {}
    if previous is not None:
        before = rankings[-2][1]
        for ranked in rankings[-1][1].units:
            try:
                earlier = before.get(ranked.result.unit_id).result
            except KeyError:
                continue
            changes[ranked.result.unit_id] = change(ranked.result, earlier)
    return History(tuple(rankings), previous, changes)


def snapshot(ranking: Ranking, campaign: Campaign) -> list[dict[str, Any]]:
    """The ranking as published: plain values, two places, kept with the publication."""
    rows = []
    for ranked in ranking.units:
        r = ranked.result
        unit = campaign.unit(r.unit_id)
        rows.append(
            {
                "rank": ranked.rank,
                "unit_id": r.unit_id,
                "name": unit.name if unit else r.unit_id,
                "name_en": unit.name_en if unit else "",
                "composite": fmt(r.composite, none=""),
                "democratic": fmt(r.democratic, none=""),
                "complaint": fmt(r.complaint.score),
                "daily": fmt(r.daily, none=""),
                "flagged": r.flagged,
                "ballots": r.counts.total,
            }
        )
    return rows


def parse_daily(text: str, services: Services) -> Decimal:
    """A daily-work score as typed: a number between 0 and the campaign's maximum."""
    limit = services.campaign.scoring.daily_max
    value = parse_decimal(text)
    if value is None or not 0 <= value <= limit or value != value.quantize(Decimal("0.01")):
        raise UserError("results/bad_daily", text=text[:20], limit=fmt(limit))
    return value


async def set_daily(services: Services, organiser_id: int, unit_id: str, text: str) -> Decimal:
    services.campaign.require_unit(unit_id)
    value = parse_daily(text, services)
    async with services.db.single() as tx:
        await store.set_daily(tx, unit_id, value, organiser_id, services.clock.now())
    return value


async def add_proposal(
    services: Services, organiser_id: int, unit_id: str, text: str, update_id: int
) -> None:
    services.campaign.require_unit(unit_id)
    text = text.strip()
    if not text or len(text) > services.campaign.intake.max_text:
        raise UserError("results/proposal_usage")
    async with services.db.single() as tx:
        await store.add_proposal(
            tx, unit_id, text, organiser_id, services.clock.now(), f"update:{update_id}"
        )


# -- the chart ----------------------------------------------------------------------------------


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(noto_cjk_sans_otc.FONT_PATH), size, index=SC_FACE)


def chart_png(rows: list[dict[str, Any]], title: str, threshold: Decimal, no_score: str) -> bytes:
    """A horizontal bar chart of the composites, Chinese names drawn in Noto Sans CJK SC;
    units below the threshold in red, the threshold as a line."""
    width, row_h, left, right, top = 1100, 54, 330, 120, 90
    height = top + row_h * max(1, len(rows)) + 40
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((24, 24), title, font=font(30), fill="#111111")
    span = width - left - right
    label_font, value_font = font(22), font(22)
    x_threshold = left + span * float(threshold) / 100
    for n, row in enumerate(rows):
        y = top + n * row_h
        place = f"{row['rank']}." if row["rank"] else "—"
        draw.text((24, y + 12), f"{place} {row['name']}", font=label_font, fill="#111111")
        if row["composite"]:
            value = float(row["composite"])
            colour = "#c62828" if row["flagged"] else "#1565c0"
            draw.rectangle((left, y + 10, left + span * value / 100, y + row_h - 10), fill=colour)
            draw.text(
                (left + span * value / 100 + 10, y + 12),
                row["composite"],
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


def ranking_chart(services: Services, rows: list[dict[str, Any]], lang: str) -> bytes:
    t = services.texts
    title = t.gettext(lang, labels.CHART_TITLE, campaign=services.campaign.title(lang))
    return chart_png(
        rows, title, services.campaign.scoring.threshold, t.gettext(lang, labels.NO_SCORE)
    )


# -- publication --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    id: int | None  # None: this update had published already (a replay)
    head: str
    rows: list[dict[str, Any]]
    recipients: int


async def published_by(services: Services, update_id: int) -> Published | None:
    """What this update published, if it did (a replay after a crash asks again)."""
    found = await store.publication_by(services.db, f"update:{update_id}")
    if found is None:
        return None
    publication, recipients = found
    return Published(publication.id, publication.head, publication.ranking, recipients)


async def publish(services: Services, organiser_id: int, update_id: int) -> Published:
    """Publish the ranking as it stands: as text and as a chart, with the ballot log's
    chain head, to the campaign's channel and every subscriber, through the outbox."""
    ranking = await current_ranking(services)
    rows = snapshot(ranking, services.campaign)
    head = await ballot_store.head(services.db)
    now = services.clock.now()
    recipients: list[tuple[int | str, str]] = []
    async with services.db.transaction() as tx:
        publication = await store.add_publication(
            tx, organiser_id, head, rows, now, f"update:{update_id}"
        )
        if publication is None:
            return Published(None, head, rows, 0)
        if services.campaign.broadcast_chat is not None:
            recipients.append((services.campaign.broadcast_chat, DEFAULT_LANG))
        for user_id in await store.subscribers(tx):
            recipients.append((user_id, await notify.language(tx, user_id)))
        charts: dict[str, int] = {}
        threshold = fmt(services.campaign.scoring.threshold, 0)
        for chat, lang in recipients:
            if lang not in charts:
                charts[lang] = await store.add_blob(tx, ranking_chart(services, rows, lang), now)
            key = f"publication:{publication}:{chat}"
            await notify.notify(
                tx,
                services,
                chat,
                "results/published",
                key,
                values={"rows": rows, "head": head, "at": now, "threshold": threshold},
                lang=lang,
            )
            caption = services.texts.render(
                "results/chart_caption", lang, campaign=services.campaign
            )
            await notify.photo(tx, services, chat, charts[lang], caption, f"{key}:chart")
    services.outbox.wake()
    return Published(publication, head, rows, len(recipients))


async def subscribe(services: Services, user_id: int, on: bool) -> bool:
    async with services.db.transaction() as tx:
        if on:
            return await store.subscribe(tx, user_id, services.clock.now())
        return await store.unsubscribe(tx, user_id)


@dataclass(frozen=True)
class Page:
    """One round's public page: ``folder`` is "" for the current round (the site's front
    page) and the round's id for an earlier one."""

    folder: str
    year: int
    html: str
    chart: bytes


async def pages(services: Services) -> list[Page]:
    """The static pages for the district's website: the current round's (its last
    publication, or before one the ranking as it stands) and one per earlier round that was
    published, as it was; each links the others (design §7, §12)."""
    campaign = services.campaign
    earlier = []
    for round_ in services.rounds:
        if round_.id == campaign.id:
            continue
        published = await store.last_publication(services.db, round_.id)
        if published is not None:
            earlier.append((round_, published))
    years = [(campaign.year, "")] + [(r.year, r.id) for r, _ in reversed(earlier)]
    found = []
    published = await store.last_publication(services.db)
    if published is not None:
        rows, at, head = published.ranking, published.published_at, published.head
    else:
        rows = snapshot(await current_ranking(services), campaign)
        at, head = services.clock.now(), await ballot_store.head(services.db)
    found.append(_page(services, campaign, "", rows, at, head, years))
    for round_, publication in earlier:
        found.append(
            _page(
                services,
                round_.campaign or campaign,
                round_.id,
                publication.ranking,
                publication.published_at,
                publication.head,
                years,
                title=round_.title("zh"),
            )
        )
    return found


def _page(
    services: Services,
    campaign: Campaign,
    folder: str,
    rows: list[dict[str, Any]],
    at: Any,
    head: str,
    years: list[tuple[int, str]],
    title: str | None = None,
) -> Page:
    root = "../" if folder else ""
    links = [
        {"year": year, "href": f"{root}{f'{other}/' if other else ''}index.html"}
        for year, other in years
        if other != folder
    ]
    html = services.texts.render(
        "page/ranking.html",
        "zh",
        rows=rows,
        at=at,
        head=head,
        campaign=campaign,
        title=title or campaign.name,
        threshold=fmt(campaign.scoring.threshold, 0),
        root=root,
        links=links,
    )
    lang = DEFAULT_LANG  # the public page is in Chinese
    chart = chart_png(
        rows,
        services.texts.gettext(lang, labels.CHART_TITLE, campaign=title or campaign.name),
        campaign.scoring.threshold,
        services.texts.gettext(lang, labels.NO_SCORE),
    )
    year = campaign.year
    return Page(folder, year, html + "\n", chart)


def write_pages(directory: Path, found: list[Page], font: bytes) -> list[Path]:
    """Write each page (index.html and ranking.png in its folder) and the web font beside
    the front page; return the pages' paths."""
    written = []
    for p in found:
        folder = directory / p.folder if p.folder else directory
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.html").write_text(p.html, encoding="utf-8")
        (folder / "ranking.png").write_bytes(p.chart)
        written.append(folder / "index.html")
    (directory / "font.woff2").write_bytes(font)
    return written
