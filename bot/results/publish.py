"""Publication (design §7): the ranking as it stands, with the ballot log's chain head, to
the campaign's channel and every subscriber; and the public pages, one per round.

Nothing is published by mistake: :func:`preview` shows the organiser what will go out and
what is not ready (the window still open, offices without ballots or daily scores, nobody
to receive it), and :func:`publish` publishes only the ranking that was previewed (its
fingerprint): if a ballot or a score changed in between, it refuses and a new preview is
shown."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.ballots import evaluation
from bot.campaign import Campaign, Named
from bot.chat import labels, notify
from bot.db import audit
from bot.db import ballots as ballot_store
from bot.db import results as store
from bot.db.results import RankingRow
from bot.errors import UserError
from bot.results.chart import chart_png, ranking_chart
from bot.results.ranking import current_ranking, snapshot
from bot.services import Services
from bot.texts import DEFAULT_LANG
from scoring import fmt


@dataclass(frozen=True)
class Published:
    id: int | None  # None: this update had published already (a replay)
    head: str
    rows: list[RankingRow]
    recipients: int


async def published_by(services: Services, origin: str) -> Published | None:
    """What this update or form (``origin``) published, if it did (a replay after a crash
    asks again)."""
    found = await store.publication_by(services.db, origin)
    if found is None:
        return None
    publication, recipients = found
    return Published(publication.id, publication.head, publication.ranking, recipients)


@dataclass(frozen=True)
class Preview:
    """What a publication would send now, and what is not ready for it."""

    rows: list[RankingRow]
    head: str
    fingerprint: str  # of the rows and the head: the confirmation publishes only these
    window_open: bool
    no_ballots: list[Named]  # offices
    no_daily: list[Named]
    channel: bool  # the campaign's channel receives it
    subscribers: int
    last: dt.datetime | None  # when the results were last published, if ever

    @property
    def recipients(self) -> int:
        return int(self.channel) + self.subscribers

    @staticmethod
    def names(units: list[Named], lang: str) -> list[str]:
        return [u.label(lang) for u in units]


def fingerprint(rows: list[RankingRow], head: str) -> str:
    shown = json.dumps([r.as_json() for r in rows], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(f"{shown}|{head}".encode()).hexdigest()[:12]


def channel_values(
    services: Services, rows: list[RankingRow], head: str, at: dt.datetime
) -> dict[str, Any]:
    """What the template ``results/published`` is given: the publication as the channel,
    the subscribers and every preview of it read it."""
    threshold = fmt(services.campaign.scoring.threshold, 0)
    return {"rows": rows, "head": head, "at": at, "threshold": threshold}


def channel_text(services: Services, found: Preview) -> str:
    """The text a publication would send now, in the channel's language (a preview's)."""
    values = channel_values(services, found.rows, found.head, services.clock.now())
    return services.texts.render(
        "results/published", DEFAULT_LANG, campaign=services.campaign, **values
    )


async def preview(services: Services) -> Preview:
    campaign = services.campaign
    rows = snapshot(await current_ranking(services), campaign)
    head = await ballot_store.head(services.db)
    daily = await store.daily_scores(services.db)
    async with services.db.transaction() as tx:
        subscribers = len(await store.subscribers(tx))
    last = await store.last_publication(services.db)
    return Preview(
        rows=rows,
        head=head,
        fingerprint=fingerprint(rows, head),
        window_open=await evaluation.is_open(services),
        no_ballots=[u for r in rows if r.ballots == 0 and (u := campaign.unit(r.unit_id))],
        no_daily=[u for u in campaign.units if u.id not in daily],
        channel=campaign.broadcast_chat is not None,
        subscribers=subscribers,
        last=last.published_at if last else None,
    )


async def publish(
    services: Services, organiser_id: int, origin: str, previewed: str, via: str = "chat"
) -> Published:
    """Publish the ranking as it stands, if it is the one previewed (``previewed``: its
    fingerprint; else :class:`bot.errors.UserError` "results/changed"): as text and as a
    chart, with the ballot log's chain head, to the campaign's channel and every
    subscriber, through the outbox."""
    ranking = await current_ranking(services)
    rows = snapshot(ranking, services.campaign)
    head = await ballot_store.head(services.db)
    if fingerprint(rows, head) != previewed:
        raise UserError("results/changed")
    now = services.clock.now()
    recipients: list[tuple[int | str, str]] = []
    async with services.db.transaction() as tx:
        publication = await store.add_publication(tx, organiser_id, head, rows, now, origin)
        if publication is None:
            return Published(None, head, rows, 0)
        await audit.record(tx, organiser_id, via, "publish", now, "", head[:16])
        if services.campaign.broadcast_chat is not None:
            recipients.append((services.campaign.broadcast_chat, DEFAULT_LANG))
        for user_id in await store.subscribers(tx):
            recipients.append((user_id, await notify.language(tx, user_id)))
        charts: dict[str, int] = {}
        values = channel_values(services, rows, head, now)
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
                values=values,
                lang=lang,
            )
            caption = services.texts.render(
                "results/chart_caption", lang, campaign=services.campaign
            )
            await notify.photo(tx, services, chat, charts[lang], caption, f"{key}:chart")
    services.outbox.wake()
    return Published(publication, head, rows, len(recipients))


REPORTED = "publications_reported"  # meta: the last publication whose delivery was reported
REPORT_WITHIN = dt.timedelta(days=1)  # older publications are passed over, not reported


async def report_deliveries(services: Services) -> int:
    """Tell whoever published how it went, once every destination is settled (sent, or
    given up): delivered to how many, and each that failed, in words. Oldest first; a
    publication still on its way holds the later ones back. Returns how many reported."""
    db, campaign = services.db, services.campaign
    done = int(await ballot_store.get_meta(db, REPORTED) or 0)
    reported = 0
    for publication_id, by, at in await store.publications_after(db, done):
        if services.clock.now() - at > REPORT_WITHIN:
            # published before this report existed (an upgrade), or long ago: not news
            async with db.transaction() as tx:
                await ballot_store.set_meta(tx, REPORTED, str(publication_id))
            continue
        found = await store.deliveries(db, publication_id)
        if any(not d.sent and not d.failed for d in found):
            break  # still on its way
        channel = [d for d in found if str(d.chat_id) == str(campaign.broadcast_chat)]
        people = [d for d in found if d not in channel]
        async with db.transaction() as tx:
            await notify.notify(
                tx,
                services,
                by,
                "results/delivered",
                f"delivered:{publication_id}",
                values={
                    "at": at,
                    "total": len(found),
                    "sent": sum(d.sent for d in found),
                    "channel": channel[0] if channel else None,
                    "people_failed": sum(d.failed for d in people),
                },
            )
            await ballot_store.set_meta(tx, REPORTED, str(publication_id))
        reported += 1
    if reported:
        services.outbox.wake()
    return reported


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


async def pages(services: Services, live: bool = False) -> list[Page]:
    """The static pages for the district's website: the current round's last publication
    (with ``live``, before one, the ranking as it stands, titled as live and not
    published) and one per earlier round that was published, as it was; each links the
    others (design §7, §12)."""
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
        found.append(_page(services, campaign, "", rows, at, head, years))
    elif live:
        rows = snapshot(await current_ranking(services), campaign)
        at, head = services.clock.now(), await ballot_store.head(services.db)
        found.append(_page(services, campaign, "", rows, at, head, years, live=True))
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
    rows: list[RankingRow],
    at: Any,
    head: str,
    years: list[tuple[int, str]],
    title: str | None = None,
    live: bool = False,
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
        live=live,
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
    the front page; return the pages' paths. The page is public: its files are readable by
    everyone (the web server that serves it), whatever evalbot's own umask (077)."""
    written = []
    for p in found:
        folder = directory / p.folder if p.folder else directory
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)
        (folder / "index.html").write_text(p.html, encoding="utf-8")
        (folder / "ranking.png").write_bytes(p.chart)
        for name in ("index.html", "ranking.png"):
            (folder / name).chmod(0o644)
        written.append(folder / "index.html")
    (directory / "font.woff2").write_bytes(font)
    (directory / "font.woff2").chmod(0o644)
    directory.chmod(0o755)
    return written
