"""``evalbot``: run the bot, play the demo, check a campaign file, back up the database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import os
import re
import secrets
import signal
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.campaign import Campaign, load_campaign
from bot.db.backends import check_claim
from bot.db.database import PG_BACKUP, backup_file, in_use, is_url
from bot.errors import CampaignError, DatabaseError, SettingsError
from bot.settings import REPO_EXAMPLE, Settings

if TYPE_CHECKING:
    from bot.console.server import ConsoleConfig

log = logging.getLogger("evalbot")

EXIT_USAGE = 2
EXIT_UNAVAILABLE = 69  # sysexits' EX_UNAVAILABLE: a service the bot needs did not answer
TOKEN_SHAPE = re.compile(r"(\d{5,}):[A-Za-z0-9_-]{20,}")
DB_HELP = "the database: a file, or a postgresql:// URL (default: $EVALBOT_DB)"


def _campaign(path: Path) -> Campaign | None:
    try:
        return load_campaign(path)
    except CampaignError as exc:
        print(f"{path}: {len(exc.problems)} problem(s); nothing was started:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return None


def cmd_check(args: argparse.Namespace) -> int:
    campaign = _campaign(Path(args.campaign))
    if campaign is None:
        return EXIT_USAGE
    print(
        f"{args.campaign}: OK — {campaign.name} ({campaign.id}): {len(campaign.units)} units, "
        f"{len(campaign.items)} items, {len(campaign.categories)} evaluator categories, "
        f"{len(campaign.organisers)} organiser(s), phases "
        + ", ".join(f"{p.id} {p.start}–{p.end}" for p in campaign.phases)
    )
    return 0


def console_config(settings: Settings) -> ConsoleConfig | None:
    """The web console, when EVALBOT_CONSOLE_URL says where people open it."""
    from bot.console.server import ConsoleConfig

    if settings.console_url is None:
        return None
    return ConsoleConfig(settings.console_url, dt.timedelta(seconds=settings.init_data_max_age))


def cmd_run(args: argparse.Namespace) -> int:
    from telegram.error import InvalidToken, NetworkError

    from bot.app import EvalBot
    from bot.runtime.webhook import WebhookConfig, valid_secret

    try:
        settings = Settings.from_env()
        token = settings.require_token()
    except SettingsError as exc:
        print(f"evalbot run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    campaign_path = Path(args.campaign) if args.campaign else settings.campaign_path
    if campaign_path.resolve() == REPO_EXAMPLE and not args.example:
        print(
            f"evalbot run: {campaign_path} is the bundled example campaign (demo offices, a "
            "made-up organiser); set EVALBOT_CAMPAIGN to your district's campaign file, or "
            "pass --example to run the example",
            file=sys.stderr,
        )
        return EXIT_USAGE
    campaign = _campaign(campaign_path)
    if campaign is None:
        return EXIT_USAGE
    webhook = None
    if args.webhook:
        secret = args.secret_token or secrets.token_urlsafe(32)
        if not valid_secret(secret):
            print(
                "evalbot run: --secret-token takes 1 to 256 of A-Z, a-z, 0-9, _ and -",
                file=sys.stderr,
            )
            return EXIT_USAGE
        if not webhook_address_ok(args.webhook):
            print(
                f"evalbot run: --webhook takes an https:// address (Telegram posts only to "
                f"HTTPS), got {args.webhook!r}",
                file=sys.stderr,
            )
            return EXIT_USAGE
        webhook = WebhookConfig(args.webhook, args.listen, args.port, secret)
    try:  # before reaching Telegram: is this file the database's current round?
        asyncio.run(check_claim(settings.db, campaign.id))
        bot = EvalBot(
            campaign,
            token,
            settings.db,
            base_url=settings.api_base_url,
            lanes=args.lanes,
            webhook=webhook,
            ballot_key_path=settings.ballot_key_path,
            new_ballot_key=args.new_ballot_key,
            edits_overall=settings.edits_overall,
            console=console_config(settings),
            console_listen=settings.console_listen,
            proxy=settings.proxy.reveal() or None,
            health_listen=settings.health_listen,
        )
    except (DatabaseError, SettingsError) as exc:
        print(f"evalbot run: {exc}", file=sys.stderr)
        return EXIT_USAGE

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        log.info(
            "evalbot starts: campaign %s, database %s, API %s",
            campaign.id,
            shown(settings.db),
            settings.api_base_url or "api.telegram.org",
        )
        if webhook is not None:
            log.info("webhook mode: Telegram posts to %s", webhook.url)
        try:
            await bot.run_forever()
        except asyncio.CancelledError:
            log.info("evalbot stopped")

    try:
        with contextlib.nullcontext() if is_url(settings.db) else in_use(Path(settings.db)):
            asyncio.run(main())
    except (DatabaseError, SettingsError) as exc:
        print(f"evalbot run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InvalidToken:
        print(
            "evalbot run: Telegram rejected the token in TELEGRAM_BOT_TOKEN; copy it again "
            "from @BotFather (/mybots → API Token)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except NetworkError as exc:  # (TimedOut included)
        where = settings.api_base_url or "https://api.telegram.org"
        print(
            f"evalbot run: cannot reach the Bot API at {hide_token(where)} "
            f"({hide_token(exc.message)}); the server needs outbound HTTPS to "
            "api.telegram.org, or a proxy in EVALBOT_PROXY",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE
    return 0


def hide_token(text: str) -> str:
    """``text`` with anything shaped like a bot token (digits:secret) masked."""
    return TOKEN_SHAPE.sub(lambda m: f"{m.group(1)}:***", text)


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    campaign = _campaign(
        Path(args.campaign) if args.campaign else Settings.from_env({}).campaign_path
    )
    if campaign is None:
        return EXIT_USAGE
    page_dir = Path(args.page) if args.page else None
    try:
        result = asyncio.run(run_demo(campaign, page_dir=page_dir, serve=args.serve))
    except KeyboardInterrupt:
        return 0
    if result.cases != result.expected or result.errors or result.on_page != len(campaign.units):
        print(
            f"evalbot demo: expected {result.expected} cases, no errors and all "
            f"{len(campaign.units)} units on "
            f"the page; got {result.cases} case(s), {result.errors} error(s) and "
            f"{result.on_page} unit(s)",
            file=sys.stderr,
        )
        return 1
    return 0


def webhook_address_ok(url: str) -> bool:
    """https://, as Telegram requires; http:// only on this machine's loopback (the
    stand-in's tests and benchmarks: Telegram itself never reaches a loopback address)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")


def shown(target: str) -> str:
    """A database as it may be printed (a URL without its password)."""
    if is_url(target):
        from bot.db.postgres import hide_password

        return hide_password(target)
    return target


def database_of(args: argparse.Namespace, command: str) -> str | None:
    """The database a command works on (``--db``, else EVALBOT_DB); None, said why, when
    it is a file that does not exist."""
    target = str(args.db or Settings.from_env().db)
    if not is_url(target) and not Path(target).exists():
        print(f"evalbot {command}: {target} does not exist", file=sys.stderr)
        return None
    return target


def cmd_backup(args: argparse.Namespace) -> int:
    """SQLite's online backup: a consistent copy even while the bot writes."""
    settings = Settings.from_env()
    source = str(args.db or settings.db)
    if is_url(source):
        print(f"evalbot backup: {PG_BACKUP}", file=sys.stderr)
        return EXIT_USAGE
    source_path = Path(source)
    if not source_path.exists():
        print(f"evalbot backup: {source_path} does not exist", file=sys.stderr)
        return EXIT_USAGE
    if (args.path is None) == (args.into is None):
        print("evalbot backup: give a new file, or --into FOLDER (one of them)", file=sys.stderr)
        return EXIT_USAGE
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    target = Path(args.path) if args.path else Path(args.into) / f"evalbot-{stamp}.sqlite3"
    if target.exists():
        print(f"evalbot backup: {target} exists; choose a new file", file=sys.stderr)
        return EXIT_USAGE
    if not target.parent.is_dir():
        print(f"evalbot backup: the folder {target.parent} does not exist", file=sys.stderr)
        return EXIT_USAGE
    try:
        ok = backup_file(source_path, target)
    except (OSError, sqlite3.Error) as exc:
        print(f"evalbot backup: cannot write {target} ({exc})", file=sys.stderr)
        return EXIT_USAGE
    print(f"backed up {source_path} to {target} (integrity: {ok})")
    if args.into is not None and args.keep is not None:
        kept = sorted(Path(args.into).glob("evalbot-*.sqlite3"))
        for old in kept[: max(0, len(kept) - args.keep)]:
            old.unlink()
            print(f"removed the older backup {old} (keeping the newest {args.keep})")
    return 0 if ok == "ok" else 1


def cmd_migrate(args: argparse.Namespace) -> int:
    """The schema migrations this version would run (``--dry-run``), or run them now (the
    bot stopped): on SQLite a copy of the database is kept beside it first."""
    from bot.db import open_database
    from bot.db.backends import pending_migrations

    target = str(args.db or Settings.from_env().db)
    try:
        version, pending = asyncio.run(pending_migrations(target))
    except DatabaseError as exc:
        print(f"evalbot migrate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{shown(target)}: schema version {version}")
    if not pending:
        print("  up to date: no migration to run")
        return 0
    for name in pending:
        print(f"  {'would run' if args.dry_run else 'runs'} {name}")
    if args.dry_run:
        if is_url(target):
            print("  back it up first with pg_dump (`evalbot backup` says how)")
        else:
            print("  a copy of the file is kept beside it before they run")
        return 0

    async def run_them() -> None:
        db = await open_database(target)
        await db.close()

    try:
        with contextlib.nullcontext() if is_url(target) else in_use(Path(target)):
            asyncio.run(run_them())
    except DatabaseError as exc:
        print(f"evalbot migrate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"  done: schema version {version + len(pending)}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Put a backup back as the database: refused while a bot runs on it, or over an
    existing database without --force (which keeps the old one beside it); the restored
    copy is checked and its ballots recounted (verify) before it takes the database's
    place."""
    from bot.ballots.evaluation import verify
    from bot.db.database import restore_file

    target = str(args.db or Settings.from_env().db)
    if is_url(target):
        print(f"evalbot restore: {PG_BACKUP}", file=sys.stderr)
        return EXIT_USAGE
    source, dest = Path(args.file), Path(target)
    if not source.is_file():
        print(f"evalbot restore: {source} does not exist", file=sys.stderr)
        return EXIT_USAGE
    if dest.exists() and not args.force:
        print(
            f"evalbot restore: {dest} exists; stop the bot, then add --force to replace it "
            "(the database it replaces is kept beside it)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not dest.parent.is_dir():
        print(f"evalbot restore: the folder {dest.parent} does not exist", file=sys.stderr)
        return EXIT_USAGE
    try:
        restored = restore_file(source, dest, lambda copy: asyncio.run(verify(copy)))
    except (DatabaseError, OSError, sqlite3.Error) as exc:
        print(f"evalbot restore: {exc}; nothing was changed", file=sys.stderr)
        return EXIT_USAGE
    print(f"restored {source} as {dest}: integrity ok, the ballots recount ({restored.verified})")
    if restored.kept is not None:
        print(f"  the database it replaced is kept as {restored.kept}")
    print("  start the bot again (the ballot key file beside the database must be the same)")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Recount the ballots from their hash-chained log."""
    from bot.ballots.evaluation import verify

    target = database_of(args, "verify")
    if target is None:
        return EXIT_USAGE
    path = shown(target)
    result = asyncio.run(verify(target, args.head))
    if result.ok:
        print(
            f"{path}: OK — {result.entries} log entries recount to the stored tallies; "
            f"chain head {result.head}"
        )
        if len(result.heads) > 1:
            for round_id, head, entries in result.heads:
                print(f"  round {round_id}: {entries} entries, chain head {head}")
        return 0
    print(
        f"{path}: the ballots do NOT match their log ({len(result.problems)} problem(s)):",
        file=sys.stderr,
    )
    for problem in result.problems:
        print(f"  {problem}", file=sys.stderr)
    return 1


def cmd_round_start(args: argparse.Namespace) -> int:
    """Open the campaign FILE as the database's next round (design §12)."""
    from bot import rounds
    from bot.db import open_database
    from bot.errors import RoundError

    target = str(args.db or Settings.from_env().db)
    path = shown(target)
    campaign = _campaign(Path(args.campaign))
    if campaign is None:
        return EXIT_USAGE

    async def main() -> rounds.Opening:
        db = await open_database(target)
        try:
            return await rounds.start(db, campaign, dt.datetime.now(dt.UTC))
        finally:
            await db.close()

    try:
        opening = asyncio.run(main())
    except (DatabaseError, RoundError) as exc:
        print(f"evalbot round start: {exc}; nothing was changed", file=sys.stderr)
        return EXIT_USAGE
    print(f"{path}: " + "\n".join(opening.report()))
    print(f"  now run the bot with this file: EVALBOT_CAMPAIGN={args.campaign} evalbot run")
    return 0


def cmd_round_list(args: argparse.Namespace) -> int:
    """The database's rounds, the current one last."""
    from bot.db import open_database
    from bot.db import rounds as round_store

    target = database_of(args, "round list")
    if target is None:
        return EXIT_USAGE
    path = shown(target)

    async def main() -> list[round_store.RoundRow]:
        db = await open_database(target)
        try:
            return await round_store.rounds(db)
        finally:
            await db.close()

    found = asyncio.run(main())
    for r in found:
        state = "current" if r is found[-1] else f"closed {r.closed_at:%Y-%m-%d}"
        print(f"{r.seq}. {r.id}  {r.year}  {r.name}  (opened {r.opened_at:%Y-%m-%d}, {state})")
    if not found:
        print(f"{path}: no round yet (the first `evalbot run` opens its campaign's)")
    return 0


def cmd_publish_page(args: argparse.Namespace) -> int:
    """Write the static results pages into a directory: the current round's index.html and
    ranking.png, one folder per earlier round that was published, and font.woff2 (the
    Chinese web font for browsers without CJK fonts)."""
    from bot.app import EvalBot
    from bot.console import fonts
    from bot.db.results import last_publication
    from bot.results.publish import Page, pages, write_pages

    settings = Settings.from_env()
    campaign = _campaign(Path(args.campaign) if args.campaign else settings.campaign_path)
    if campaign is None:
        return EXIT_USAGE
    if not is_url(settings.db) and not settings.db_path.exists():
        print(f"evalbot publish-page: {settings.db} does not exist", file=sys.stderr)
        return EXIT_USAGE

    async def main() -> list[Page] | None:
        bot = EvalBot(
            campaign,
            "0:offline",
            settings.db,
            run_jobs=False,
            ballot_key_path=settings.ballot_key_path,
        )
        services = await bot.open_services()
        try:
            if not args.live and await last_publication(services.db) is None:
                return None
            return await pages(services, live=args.live)
        finally:
            await services.db.close()

    try:
        found = asyncio.run(main())
    except (DatabaseError, SettingsError) as exc:
        print(f"evalbot publish-page: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if found is None:
        print(
            "evalbot publish-page: nothing is published yet in this round (/publish); "
            "--live writes the ranking as it stands, titled as not published",
            file=sys.stderr,
        )
        return EXIT_USAGE
    directory = Path(args.directory)
    written = write_pages(directory, found, fonts.web_font())
    print(f"wrote {', '.join(str(p) for p in written)} (each with its ranking.png) and the font")
    return 0


def cmd_migrate_db(args: argparse.Namespace) -> int:
    """Copy a SQLite database into an empty PostgreSQL database (design §13)."""
    from bot.ballots.evaluation import verify
    from bot.db.transfer import Report, copy_database

    async def copy_and_recount() -> Report:
        report = await copy_database(source, args.to, lambda line: print(line, flush=True))
        checked = await verify(args.to)  # the copy's ballots recounted from its log
        report.verified, report.problems = checked.ok, list(checked.problems)
        return report

    source = Path(args.source)
    if not source.exists():
        print(f"evalbot migrate-db: {source} does not exist", file=sys.stderr)
        return EXIT_USAGE
    if not is_url(args.to):
        print("evalbot migrate-db: --to takes a postgresql:// URL", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = asyncio.run(copy_and_recount())
    except DatabaseError as exc:
        print(f"evalbot migrate-db: {exc}; nothing was copied", file=sys.stderr)
        return EXIT_USAGE
    for line in report.summary():
        print(line)
    return 0 if report.ok else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="evalbot", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    p.add_argument("--version", action="version", version=f"evalbot {version()}")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run", help="run the bot (long polling, or a webhook); needs TELEGRAM_BOT_TOKEN"
    )
    run.add_argument("--campaign", help="campaign file (default: $EVALBOT_CAMPAIGN)")
    run.add_argument(
        "--example",
        action="store_true",
        help="run the bundled example campaign (refused without this: it is not a district's)",
    )
    run.add_argument(
        "--lanes",
        type=int,
        default=64,
        help="users served at once (default 64, chosen by bench/bench_throughput.py)",
    )
    run.add_argument(
        "--webhook",
        metavar="URL",
        help="receive updates at this public HTTPS address instead of polling",
    )
    run.add_argument("--listen", default="127.0.0.1", help="webhook: address to listen on")
    run.add_argument("--port", type=int, default=8443, help="webhook: port to listen on")
    run.add_argument(
        "--secret-token",
        help="webhook: the secret Telegram sends with every update (1-256 of A-Z a-z 0-9 _ -; "
        "default: a new random one each start)",
    )
    run.add_argument(
        "--new-ballot-key",
        action="store_true",
        help="make a new ballot key although ballots exist (the old one is lost: the ballots "
        "cast stay counted, but evaluators can no longer see or change theirs)",
    )
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="the bot against the embedded stand-in, with a transcript")
    demo.add_argument("--campaign", help="campaign file (default: the bundled example)")
    demo.add_argument("--page", help="keep the public results page it writes in this folder")
    demo.add_argument(
        "--serve",
        action="store_true",
        help="afterwards keep the bot and its web console open on loopback (Ctrl-C stops)",
    )
    demo.set_defaults(func=cmd_demo)

    check = sub.add_parser("check", help="check a campaign file and list every problem")
    check.add_argument("campaign")
    check.set_defaults(func=cmd_check)

    backup = sub.add_parser("backup", help="a consistent copy of the database, while it runs")
    backup.add_argument("path", nargs="?", help="the new file")
    backup.add_argument(
        "--into", metavar="FOLDER", help="instead: a new file evalbot-DATE-TIME.sqlite3 there"
    )
    backup.add_argument(
        "--keep", type=int, metavar="N", help="with --into: then remove all but the newest N"
    )
    backup.add_argument("--db", help=DB_HELP)
    backup.set_defaults(func=cmd_backup)
    migrate = sub.add_parser(
        "migrate", help="the schema migrations of an upgrade: list them, or run them now"
    )
    migrate.add_argument("--db", help=DB_HELP)
    migrate.add_argument(
        "--dry-run", action="store_true", help="only list what would run; change nothing"
    )
    migrate.set_defaults(func=cmd_migrate)
    restore = sub.add_parser(
        "restore", help="put a backup back as the database (the bot stopped), then verify it"
    )
    restore.add_argument("file", help="the backup")
    restore.add_argument("--db", help=DB_HELP)
    restore.add_argument(
        "--force", action="store_true", help="replace an existing database (kept beside it)"
    )
    restore.set_defaults(func=cmd_restore)

    verify = sub.add_parser("verify", help="recount the ballots from their hash-chained log")
    verify.add_argument("--db", help=DB_HELP)
    verify.add_argument("--head", help="the chain head that was published, to check as well")
    verify.set_defaults(func=cmd_verify)

    round_ = sub.add_parser("round", help="successive rounds in one database (next year's)")
    round_sub = round_.add_subparsers(dest="round_command", required=True)
    start = round_sub.add_parser(
        "start", help="check a new campaign file and open it as the next round (bot stopped)"
    )
    start.add_argument("campaign")
    start.add_argument("--db", help=DB_HELP)
    start.set_defaults(func=cmd_round_start)
    listing = round_sub.add_parser("list", help="the database's rounds, the current one last")
    listing.add_argument("--db", help=DB_HELP)
    listing.set_defaults(func=cmd_round_list)

    move = sub.add_parser(
        "migrate-db", help="copy a SQLite database into an empty PostgreSQL database"
    )
    move.add_argument("--from", dest="source", required=True, help="the SQLite file")
    move.add_argument("--to", required=True, help="the PostgreSQL database's URL")
    move.set_defaults(func=cmd_migrate_db)

    page = sub.add_parser("publish-page", help="write the static results page into DIR")
    page.add_argument("directory")
    page.add_argument("--campaign", help="campaign file (default: $EVALBOT_CAMPAIGN)")
    page.add_argument(
        "--live",
        action="store_true",
        help="before the first publication: the ranking as it stands, titled as not published",
    )
    page.set_defaults(func=cmd_publish_page)
    return p


def version() -> str:
    """The installed evalbot's version (from its package metadata)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("evalbot")
    except PackageNotFoundError:
        return "(not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    # Everything evalbot writes (the database, its journal, backups, exports, the ballot
    # key, the public page's folder) holds residents' names and complaints: readable by
    # the bot's account only, whatever the shell's umask.
    os.umask(0o077)
    args = parser().parse_args(argv)
    quiet = args.command == "demo"  # the transcript is the demo's output
    form = os.environ.get("EVALBOT_LOG_FORMAT", "text").strip() or "text"
    if form not in ("text", "json"):
        print(f"evalbot: EVALBOT_LOG_FORMAT takes text or json, got {form!r}", file=sys.stderr)
        return EXIT_USAGE
    handler = logging.StreamHandler()
    if form == "json":
        from pythonjsonlogger.json import JsonFormatter

        # one object a line: timestamp (ISO, UTC), level, logger, message (and exc_info)
        handler.setFormatter(
            JsonFormatter(
                "%(levelname)s %(name)s %(message)s",
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp=True,
                json_ensure_ascii=False,
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING if quiet else logging.INFO,
        handlers=[handler],
    )
    configure_logging(args.verbose)
    for each in logging.getLogger().handlers:
        each.addFilter(mask_tokens)
    return int(args.func(args))


def mask_tokens(record: logging.LogRecord) -> bool:
    """No bot token in any log line (a library's error names the URL, token included)."""
    message = record.getMessage()
    masked = hide_token(message)
    if masked != message:
        record.msg, record.args = masked, None
    return True


def configure_logging(verbose: bool) -> None:
    """Quiet the libraries. Even with -v their debug output stays off: PTB's and the HTTP
    clients' request logs and aiosqlite's statement logs carry the texts people wrote, and
    logs never hold those."""
    libraries = (
        "telegram",
        "httpx",
        "httpcore",
        "aiohttp",
        "aiosqlite",
        "asyncpg",
        "apscheduler",
        "hpack",
    )
    for library in libraries:
        logging.getLogger(library).setLevel(logging.INFO if verbose else logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
