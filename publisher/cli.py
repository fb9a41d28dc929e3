"""Command line: each command parses its options, calls one API function, prints the result.

Exit codes (cron can act on them): 0 all good, 1 the work failed (or --strict refused a short
article), 2 configuration or usage error.
"""

from __future__ import annotations

import logging
import sys

import click

# late imports: each command imports the library it calls inside itself, so that
# `publisher --help` and a wrong option answer at once instead of loading every stage.

from . import __version__
from .output import SafeLog, echo, echo_json

STATUSES = ["draft", "pending", "future", "publish"]


class RedactSecrets(logging.Filter):
    """Last line of defence: no log record, ours or a library's (httpx and openai log the base
    URL, a password written into it included), carries a configured secret in any form."""

    def __init__(self, settings):
        super().__init__()
        from .redaction import remember_settings
        remember_settings(settings)

    def filter(self, record: logging.LogRecord) -> bool:
        from .redaction import scrub
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_text = scrub(record.exc_text) if record.exc_text else record.exc_text
        record.msg, record.args = scrub(record.getMessage()), ()
        return True


def _setup(verbose: int, env_file: str | None):
    from .config import Settings
    from .errors import PublisherError
    try:
        settings = Settings.load(env_file or ".env")
    except PublisherError as err:          # a bad setting: one line, exit 2
        _fail(err)
    level = logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler(sys.stderr)
    # Default verbosity: the messages as the plain sentences they are (cron mails them);
    # -v and more: with the level and logger, for whoever debugs.
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s" if verbose
                                           else "%(message)s"))
    handler.addFilter(RedactSecrets(settings))
    handler.addFilter(SafeLog())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    return settings


def _fail(err: Exception) -> None:
    from .errors import CONFIG, PublisherError
    echo(f"Error: {err}", err=True)
    # Configuration-class failures (unknown model, wrong key or password, missing rights,
    # bad setting) exit 2, as for `feed`: a human must act, cron mails it.
    config = isinstance(err, click.UsageError) or (
        isinstance(err, PublisherError) and err.failure_class == CONFIG)
    sys.exit(2 if config else 1)


def run(fn, *, as_json: bool = False):
    """Call the library; turn its errors into one line on stderr and an exit code. With
    ``as_json`` a failure is also one JSON object on stdout: a script reading it gets
    {"outcome": "failed", "reason", "error"} rather than nothing."""
    from .errors import PublisherError
    try:
        return fn()
    except PublisherError as err:
        if as_json:
            failed = {"outcome": "failed", "reason": err.reason, "error": str(err)}
            usage = getattr(err, "usage", None)       # what the LLM was asked before it failed
            if usage is not None:
                failed["llm"] = {"calls": usage.requests, "tokens_in": usage.input_tokens,
                                 "tokens_out": usage.output_tokens, "cost": usage.cost}
            echo_json(failed)
        _fail(err)


common = [
    click.option("--env-file", type=click.Path(dir_okay=False), default=None,
                 help="Settings file (default: .env in the current folder)."),
    click.option("-v", "--verbose", count=True, help="-v: one line per HTTP/LLM call; -vv: debug."),
]


def with_common(f):
    for option in reversed(common):
        f = option(f)
    return f


site_option = click.option("--site", default=None,
                           help="The site of the sites file (PUBLISHER_SITES) to work on.")


def _for_site(settings, site, *, password: bool = True):
    from .sites import settings_for
    return run(lambda: settings_for(settings, site, password=password))


@click.group()
@click.version_option(__version__, prog_name="publisher")
def main():
    """Turn news articles into SEO-ready French WordPress drafts."""


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--dry-run", is_flag=True, help="Write payload, block HTML and preview to a folder; push nothing.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Folder for --dry-run (default: drafts/<date>-<slug>).")
@click.option("--min-words", type=click.IntRange(100, 5000), help="Target length (default 700 or the brief's).")
@click.option("--strict", is_flag=True, help="Fail (exit 1) instead of pushing an article under the target length.")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Post status (default draft; publish only when asked).")
@click.option("--date", default="", help="Publication date (ISO 8601) for --status future.")
@click.option("--image", default="", help="Featured image: a file or an http(s) URL.")
@click.option("--image-alt", default="", help="Alt text for --image (default: the title).")
@click.option("--image-credit", default="", help="Credit shown as the image caption.")
@click.option("--category", default="", help="Category name (must exist on the site).")
@click.option("--transport", type=click.Choice(["rest", "xmlrpc"]), default=None, help="WordPress API (default rest).")
@click.option("--allow-insecure-http", is_flag=True, help="Allow credentials over plain HTTP to a non-local site (lab only).")
@click.option("--update", is_flag=True, help="Rewrite the post already drafted from these sources (default: leave it to the editor).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per draft.")
@click.option("-q", "--quiet", is_flag=True, help="No live progress line while the model writes.")
@site_option
@with_common
def draft(inputs, dry_run, out_dir, min_words, strict, status, date, image, image_alt,
          image_credit, category, transport, allow_insecure_http, update, as_json, quiet, site,
          env_file, verbose):
    """Draft one article from INPUTS (files, URLs, or - for stdin); several inputs about the
    same story give one article crediting each."""
    from . import api, output
    from .pipeline import Options
    settings = _overrides(_for_site(_setup(verbose, env_file), site, password=not dry_run),
                          transport, allow_insecure_http)
    options = Options(status=status or settings.default_status, date=date, strict=strict,
                      image=image, image_alt=image_alt, image_credit=image_credit,
                      category=category, seo_plugin=settings.seo_plugin)
    if options.status == "future" and not date:
        _fail(click.UsageError("--status future needs --date (e.g. 2026-12-01T08:00:00)"))
    if not settings.llm_configured:     # a local server (Ollama, LM Studio…) may be running
        from .writer.discover import use_local_llm
        settings = run(lambda: use_local_llm(settings, say=lambda line: echo(line, err=True)),
                       as_json=as_json)
    request = api.DraftRequest(tuple(inputs), dry_run=dry_run, out_dir=out_dir or "",
                               min_words=min_words, update=update,
                               keep_status=update and status is None, options=options,
                               site=site)
    from .progress import LiveLine
    live = LiveLine.for_terminal(quiet=quiet, as_json=as_json)
    try:
        outcome = run(lambda: api.draft(request, settings, stdin=sys.stdin, progress=live),
                      as_json=as_json)
    finally:
        if live:
            live.clear()
    # "wordpress" says whether a push was possible: --dry-run with a site is a choice, not a
    # missing setting (the summary told the editor to configure a site already configured).
    output.show(outcome, as_json=as_json, wordpress=settings.wordpress_configured)
    sys.exit(output.exit_code(outcome))


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Post status (default: draft; the folder's own status is never used).")
@click.option("--date", default="", help="Publication date (ISO 8601) for --status future.")
@click.option("--transport", type=click.Choice(["rest", "xmlrpc"]), default=None)
@click.option("--allow-insecure-http", is_flag=True)
@click.option("--update", is_flag=True, help="Update the post already made from these sources (default: leave it to the editor).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@site_option
@with_common
def push(folder, status, date, transport, allow_insecure_http, update, as_json, site, env_file,
         verbose):
    """Push a dry-run FOLDER (possibly hand-edited) to WordPress, exactly as it is."""
    from . import api, output
    settings = _overrides(_for_site(_setup(verbose, env_file), site), transport,
                          allow_insecure_http)
    outcome = run(lambda: api.push(folder, settings, status=status, date=date,
                                  update=update, site=site),
                  as_json=as_json)
    output.show(outcome, as_json=as_json, wordpress=True)
    sys.exit(output.exit_code(outcome))


@main.command()
@click.option("--json", "as_json", is_flag=True)
@site_option
@with_common
def doctor(as_json, site, env_file, verbose):
    """Check WordPress (every site of the sites file), credentials, companion plugin, LLM and
    database before spending tokens."""
    from . import doctor as doctor_
    settings = _setup(verbose, env_file)
    results = doctor_.run_checks(settings, env_file or ".env", site=site)
    if as_json:
        echo_json([r.__dict__ for r in results])
    else:
        for r in results:
            mark = {"ok": "ok  ", "warn": "warn", "fail": "FAIL", "skip": "skip"}[r.status]
            echo(f"[{mark}] {r.name}: {r.detail}" + (f"\n       fix: {r.fix}" if r.fix else ""))
    sys.exit(2 if any(r.status == "fail" for r in results) else 0)


@main.command()
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@site_option
@with_common
def history(limit, as_json, site, env_file, verbose):
    """What publisher did, latest first: each story's title and outlets, its status
    (drafted, skipped, retrying, abandoned…) and reason, attempts and next attempt, the post's
    edit link, and the story ID (for `retry --abandon ID`)."""
    from . import api
    settings = _setup(verbose, env_file)
    rows = run(lambda: api.open_store(settings).history(limit if not site else limit * 20))
    if site:
        rows = [r for r in rows if r.get("site_name") == site][:limit]
    from .wordpress.client import history_reviews, review_note
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
    if status == "failed" and row.get("story_status") in ("retrying", "queued", "abandoned"):
        status = row["story_status"]
    tries = row.get("failed_attempts") or 0
    plan = f"attempt {tries}" if tries else ""
    if status == "retrying" and row.get("next_attempt"):
        plan += f", next {row['next_attempt'][:16].replace('T', ' ')} UTC"
    title = row.get("title") or row.get("source_url") or ""
    outlets = f" ({row['outlets']})" if row.get("outlets") else ""
    link = row.get("edit_link") or row.get("link") or row.get("source_url") or ""
    when = (row.get("created_at") or "")[:16].replace("T", " ")
    return (f"{when}  {status:9} {row.get('reason') or '':16} {plan:30} "
            f"{title[:60]}{outlets}  {link}  [{row.get('story_id', '')}]").rstrip()


def _overrides(settings, transport, allow_insecure_http):
    from dataclasses import replace
    if transport:
        settings = replace(settings, wp_transport=transport)
    if allow_insecure_http:
        settings = replace(settings, wp_allow_insecure_http=True)
    return settings


from .cli_feeds import feed, retry, stats, watch, worker  # noqa: E402  (they use the helpers above)
main.add_command(feed)
main.add_command(watch)
main.add_command(retry)
main.add_command(worker)
main.add_command(stats)


if __name__ == "__main__":  # pragma: no cover
    main()
