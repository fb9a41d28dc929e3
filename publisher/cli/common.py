"""What every command shares: --env-file and -v, logging with its filters, the site option,
and the one way a library error becomes a line on stderr and an exit code.

Exit codes (cron can act on them): 0 all good, 1 the work failed (or --strict refused a short
article), 2 configuration or usage error.
"""

from __future__ import annotations

import logging
import sys

import click

# late imports: the settings, errors and redaction are loaded when a command runs, so that
# `publisher --help` and a wrong option answer at once instead of loading the library.

from ..output import SafeLog, echo, echo_json


class RedactSecrets(logging.Filter):
    """Last line of defence: no log record, ours or a library's (httpx and openai log the base
    URL, a password written into it included), carries a configured secret in any form."""

    def __init__(self, settings):
        super().__init__()
        from ..redaction import remember_settings
        remember_settings(settings)

    def filter(self, record: logging.LogRecord) -> bool:
        from ..redaction import scrub
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_text = scrub(record.exc_text) if record.exc_text else record.exc_text
        record.msg, record.args = scrub(record.getMessage()), ()
        return True


def setup(verbose: int, env_file: str | None):
    """The settings of ``env_file`` (default ./.env), and logging to stderr at the level -v
    asks, secrets filtered out."""
    from ..config import Settings
    from ..errors import PublisherError
    try:
        settings = Settings.load(env_file or ".env")
    except PublisherError as err:          # a bad setting: one line, exit 2
        fail(err)
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


def fail(err: Exception) -> None:
    from ..errors import CONFIG, PublisherError
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
    from ..errors import PublisherError
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
        fail(err)


common = [
    click.option("--env-file", type=click.Path(dir_okay=False), default=None,
                 help="Settings file (default: .env in the current folder)."),
    click.option("-v", "--verbose", count=True, help="-v: one line per HTTP/LLM call; -vv: debug."),
]


def with_common(f):
    """--env-file and -v, as on every command."""
    for option in reversed(common):
        f = option(f)
    return f


site_option = click.option("--site", default=None,
                           help="The site of the sites file (PUBLISHER_SITES) to work on.")


def for_site(settings, site, *, password: bool = True):
    """The settings of ``site`` of the sites file (the settings as they are without one)."""
    from ..sites import settings_for
    return run(lambda: settings_for(settings, site, password=password))
