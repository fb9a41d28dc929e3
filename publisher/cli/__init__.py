"""Command line: the ``publisher`` group and its commands.

    common.py     what every command shares: --env-file, -v, logging and its secret
                  filters, the site option, a library error → one line and an exit code
    articles.py   draft, push, doctor
    feeds.py      feed, watch, retry, history, worker, stats

Each command parses its options, calls one library function, prints the result. Exit codes:
0 all good, 1 the work failed, 2 configuration or usage error. Nothing in the library imports
this package; its modules import common.py, never this one.
"""

from __future__ import annotations

import click

from .. import __version__
from .articles import doctor, draft, push
from .feeds import feed, history, retry, stats, watch, worker


@click.group()
@click.version_option(__version__, prog_name="publisher")
def main():
    """Turn news articles into SEO-ready French WordPress drafts."""


for command in (draft, push, doctor, history, feed, watch, retry, worker, stats):
    main.add_command(command)
