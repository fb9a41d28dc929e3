"""Feed commands: ``feed`` (one run, for cron), ``watch`` (a service), ``retry``,
``history`` (what was done), and the scale-out ones: ``worker`` (drafts from the shared
queue), ``stats``.

Each parses its options and calls ``publisher.feeds.runner`` (or the store).
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import datetime, timedelta, timezone

import click

# late imports: the runner, the workflow engine and the store are imported inside the
# commands, so that `publisher --help` and a wrong option answer at once.

from ..models import FAILED, RETRY_STATUSES, RETRYING
from ..output import echo, echo_json
from .common import run, setup, site_option, with_common

_AGO = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str | None) -> datetime | None:
    """``2024-05-01`` / ``2024-05-01T08:00`` (UTC unless an offset is given), or ``12h``,
    ``2d``, ``1w`` ago."""
    if not value:
        return None
    match = _AGO.match(value.strip().lower())
    if match:
        return datetime.now(timezone.utc) - timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r}: give a date (2024-05-01) or an age (12h, 2d)")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def feed_urls(urls: tuple[str, ...], feeds_file: str | None) -> list[str]:
    """URLs given on the command line; an argument that is a file is a feeds file."""
    from pathlib import Path
    from ..feeds.runner import read_feed_list
    found: list[str] = []
    for arg in urls:
        is_url = arg.lower().startswith(("http://", "https://"))
        found.extend(read_feed_list(arg) if not is_url and Path(arg).is_file() else [arg])
    if feeds_file:
        found.extend(read_feed_list(feeds_file))
    return found


class Lines:
    """Plain log lines (cron mails them): one per feed problem and per story."""

    def start(self, total: int) -> None:
        pass

    def stage(self, text: str) -> None:
        pass

    def feed(self, result, new: int) -> None:
        if result.status == "failed":
            echo(f"feed failed   {result.reason:16} {result.url}")
        elif result.reason:
            echo(f"feed skipped  {result.reason:16} {result.url}")

    def story(self, result) -> None:
        where = getattr(result, "edit_link", "") or getattr(result, "link", "")
        reason = result.reason or ""
        echo(f"{result.kind:13} {reason:16} {result.title[:70]}  {where}".rstrip())

    def clear(self) -> None:
        pass                            # plain lines: nothing drawn to erase


def _progress(as_json: bool, progress: bool | None):
    """The terminal's status line (progress.Display: stage, stories done, elapsed time, log
    lines and edit links above it), or plain lines for cron, or nothing for --json."""
    from ..feeds.runner import Progress
    from ..progress import Display
    if as_json:
        return Progress()
    if progress is None:
        progress = sys.stderr.isatty()
    return Display() if progress else Lines()


def _run_with(progress, fn):
    """Run ``fn`` (a feed run), the status line erased whatever happens."""
    try:
        return run(fn)
    finally:
        progress.clear()


def _finish(summary, as_json: bool, command: str) -> None:
    if as_json:
        echo_json(summary.to_dict())
    else:
        echo(summary.line(command))
    sys.exit(summary.exit_code)


run_options = [
    click.option("--concurrency", type=click.IntRange(1, 32), default=2, show_default=True,
                 help="Stories drafted at once (workers on the story queue)."),
    click.option("--min-words", type=click.IntRange(100, 5000), default=None,
                 help="Target length (default PUBLISHER_MIN_WORDS or 700)."),
    click.option("--json", "as_json", is_flag=True, help="Print the run as one JSON object."),
    click.option("--progress/--no-progress", default=None,
                 help="Progress bar (default: on a terminal) or plain lines (cron)."),
    click.option("--site", default=None, help="Only this site of the sites file (PUBLISHER_SITES)."),
]


def with_run_options(f):
    for option in reversed(run_options):
        f = option(f)
    return f


@click.command()
@click.argument("urls", nargs=-1)
@click.option("--feeds", "feeds_file", type=click.Path(dir_okay=False),
              help="A file with one feed URL a line (# comments allowed).")
@click.option("--limit", type=click.IntRange(1), default=None, help="At most N new items this run.")
@click.option("--since", default=None, help="Skip items published before: 2024-05-01, or 12h, 2d.")
@click.option("--enqueue", is_flag=True,
              help="Only queue the stories for the workers (publisher worker); draft nothing here.")
@click.option("--dry-run", is_flag=True,
              help="Write one dry-run folder per story (as draft --dry-run); no WordPress needed "
                   "or contacted, nothing marked as seen.")
@with_run_options
@with_common
def feed(urls, feeds_file, limit, since, enqueue, dry_run, concurrency, min_words, as_json,
         progress, site, env_file, verbose):
    """Draft the new items of RSS/Atom feeds (URLs or a feeds file), one article per story.
    With a sites file and no URL, the feeds of every site (or of --site).

    Exit 0 all good, 1 some feed or item failed, 2 configuration error. Safe to run from
    cron, even when two runs overlap."""
    from ..feeds.runner import RunOptions, run_feeds
    settings = setup(verbose, env_file)
    options = RunOptions(limit=limit, since=parse_since(since), concurrency=concurrency,
                         min_words=min_words, site=site, enqueue=enqueue, dry_run=dry_run)
    shown = _progress(as_json, progress)
    summary = _run_with(shown, lambda: run_feeds(feed_urls(urls, feeds_file), settings,
                                                 options, shown))
    _finish(summary, as_json, "feed --dry-run" if dry_run else "feed")


@click.command()
@click.option("--abandon", "abandon_id", default=None, metavar="STORY_ID",
              help="Give up on this story (its ID as `history` shows it): never retried again.")
@with_run_options
@with_common
def retry(abandon_id, concurrency, min_words, as_json, progress, site, env_file, verbose):
    """Run the stories whose last attempt failed once more, now, whatever their wait (pages
    re-read, drafts not duplicated), even those abandoned by rule (a 404 page now back);
    those abandoned with --abandon are left alone. Feed and watch runs retry failed stories
    by themselves once their wait is over."""
    from ..feeds.runner import RunOptions, abandon_story, retry_failed
    settings = setup(verbose, env_file)
    if abandon_id:
        row = run(lambda: abandon_story(settings, abandon_id))
        if as_json:
            echo_json(row)
        else:
            echo(f"abandoned {row['story_id']} ({row['reason'] or 'no reason'}) {row['title']}")
        return
    options = RunOptions(concurrency=concurrency, min_words=min_words, site=site)
    shown = _progress(as_json, progress)
    summary = _run_with(shown, lambda: retry_failed(settings, options, shown))
    _finish(summary, as_json, "retry")


@click.command()
@click.argument("urls", nargs=-1)
@click.option("--feeds", "feeds_file", type=click.Path(dir_okay=False),
              help="A file with one feed URL a line.")
@click.option("--every", default="15m", show_default=True,
              help="Poll interval: 30s, 5m, 1h (or --cron).")
@click.option("--cron", "cron_expr", default=None,
              help='Cron schedule instead of --every, e.g. "*/10 6-22 * * *".')
@click.option("--concurrency", type=click.IntRange(1, 32), default=2, show_default=True)
@click.option("--min-words", type=click.IntRange(100, 5000), default=None)
@click.option("--site", default=None, help="The site of the sites file these feeds are for.")
@click.option("--enqueue", is_flag=True, help="Only poll and queue; workers draft.")
@with_common
def watch(urls, feeds_file, every, cron_expr, concurrency, min_words, site, enqueue, env_file,
          verbose):
    """Poll the feeds on a schedule until stopped (Ctrl-C or SIGTERM); unfinished items are
    resumed at start."""
    from ..feeds.runner import RunOptions, watch_feeds
    settings = setup(max(verbose, 1), env_file)
    logging.getLogger("dbos").setLevel(logging.WARNING)
    schedule = run(lambda: watch_schedule(every, cron_expr))
    options = RunOptions(concurrency=concurrency, min_words=min_words, site=site,
                         enqueue=enqueue)
    run(lambda: watch_feeds(feed_urls(urls, feeds_file), settings, schedule, options))


def watch_schedule(every: str, cron_expr: str | None) -> str:
    """--cron (checked by croniter) or --every, as the engine's cron; a ConfigError (one line,
    exit 2) when neither can be read, so a service manager does not restart it in a loop."""
    from ..errors import ConfigError
    from ..feeds.runner import check_schedule
    if cron_expr:
        return check_schedule(cron_expr)
    try:
        return every_to_cron(every)
    except click.BadParameter as err:
        raise ConfigError(err.message, reason="config") from None


def every_to_cron(every: str) -> str:
    """``30s``/``5m``/``2h`` → a cron expression (seconds field first)."""
    match = re.match(r"^(\d+)\s*([smh])$", every.strip().lower())
    if not match or int(match[1]) < 1:
        raise click.BadParameter(f"--every {every!r}: use 30s, 5m or 1h (or --cron)")
    n, unit = int(match[1]), match[2]
    limits = {"s": (60, "minute"), "m": (60, "hour"), "h": (24, "day")}
    size, span = limits[unit]
    if n >= size or size % n:
        raise click.BadParameter(f"--every {every}: must divide a {span} evenly; use --cron "
                                 "for other schedules")
    return {"s": f"*/{n} * * * * *", "m": f"0 */{n} * * * *", "h": f"0 0 */{n} * * *"}[unit]


@click.command()
@click.option("--worker-id", default=None,
              help="This worker's stable identity (default PUBLISHER_WORKER_ID, else "
                   "worker@<hostname>); restarted with the same one, it resumes what it held.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Stories drafted at once by each worker (shared setting of the queue).")
@with_common
def worker(worker_id, concurrency, env_file, verbose):
    """Draft stories from the shared queue (fed by `feed --enqueue` and the sites' schedules)
    until stopped with SIGTERM or Ctrl-C. Run as many as you like, on any machine sharing
    PUBLISHER_DB (PostgreSQL)."""
    from ..feeds.runner import run_worker
    from ..workflows import default_worker_id
    settings = setup(max(verbose, 1), env_file)
    logging.getLogger("dbos").setLevel(logging.WARNING)
    ident = worker_id or settings.worker_id or default_worker_id()
    run(lambda: run_worker(settings, ident, concurrency))


@click.command()
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@site_option
@with_common
def history(limit, as_json, site, env_file, verbose):
    """What publisher did, latest first: each story's title and outlets, its status
    (drafted, skipped, retrying, abandoned…) and reason, attempts and next attempt, the post's
    edit link, and the story ID (for `retry --abandon ID`)."""
    from .. import api
    settings = setup(verbose, env_file)
    rows = run(lambda: api.open_store(settings).history(limit if not site else limit * 20))
    if site:
        rows = [r for r in rows if r.get("site_name") == site][:limit]
    from ..wordpress.client import history_reviews, review_note
    reviews = history_reviews(settings, rows)   # who confirmed the facts, read from the site
    for row in rows:
        row["review"] = reviews.get(row.get("post_id") or 0)
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        echo(history_line(row) + review_note(row["review"]))


def history_line(row: dict) -> str:
    """One story outcome: when, status, reason, attempts and next try, title, outlets, link."""
    status = row.get("kind", "")
    if status == FAILED and row.get("story_status") in RETRY_STATUSES:
        status = row["story_status"]
    tries = row.get("failed_attempts") or 0
    plan = f"attempt {tries}" if tries else ""
    if status == RETRYING and row.get("next_attempt"):
        plan += f", next {row['next_attempt'][:16].replace('T', ' ')} UTC"
    title = row.get("title") or row.get("source_url") or ""
    outlets = f" ({row['outlets']})" if row.get("outlets") else ""
    link = row.get("edit_link") or row.get("link") or row.get("source_url") or ""
    when = (row.get("created_at") or "")[:16].replace("T", " ")
    return (f"{when}  {status:9} {row.get('reason') or '':16} {plan:30} "
            f"{title[:60]}{outlets}  {link}  [{row.get('story_id', '')}]").rstrip()


@click.command()
@click.option("--days", type=click.IntRange(1, 366), default=7, show_default=True,
              help="Days of tokens and cost per site.")
@click.option("--site", default=None, help="Only this site.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_common
def stats(days, site, as_json, env_file, verbose):
    """Throughput, queue depth, workers, failures per site, tokens and cost per site and day."""
    from .. import stats as stats_
    settings = setup(verbose, env_file)
    report = run(lambda: stats_.collect(settings, days=days, site=site))
    if as_json:
        echo_json(report)
    else:
        echo(stats_.render(report))
