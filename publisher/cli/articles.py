"""The article commands: ``draft`` (sources → one article → a WordPress draft, or a dry-run
folder), ``push`` (a dry-run folder, as it is), ``doctor`` (the pre-flight checks).

Each parses its options, calls one library function, prints the result (common.py turns the
library's errors into a line and an exit code).
"""

from __future__ import annotations

import sys

import click

# late imports: each command imports the library it calls inside itself, so that
# `publisher --help` and a wrong option answer at once instead of loading every stage.

from ..output import echo, echo_json
from .common import fail, for_site, run, setup, site_option, with_common

STATUSES = ["draft", "pending", "future", "publish"]


@click.command()
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
    from .. import api, output
    from ..pipeline import Options
    settings = _overrides(for_site(setup(verbose, env_file), site, password=not dry_run),
                          transport, allow_insecure_http)
    options = Options(status=status or settings.default_status, date=date, strict=strict,
                      image=image, image_alt=image_alt, image_credit=image_credit,
                      category=category, seo_plugin=settings.seo_plugin)
    if options.status == "future" and not date:
        fail(click.UsageError("--status future needs --date (e.g. 2026-12-01T08:00:00)"))
    if not settings.llm_configured:     # a local server (Ollama, LM Studio…) may be running
        from ..writer.discover import use_local_llm
        settings = run(lambda: use_local_llm(settings, say=lambda line: echo(line, err=True)),
                       as_json=as_json)
    request = api.DraftRequest(tuple(inputs), dry_run=dry_run, out_dir=out_dir or "",
                               min_words=min_words, update=update,
                               keep_status=update and status is None, options=options,
                               site=site)
    from ..progress import LiveLine
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


@click.command()
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
    from .. import api, output
    settings = _overrides(for_site(setup(verbose, env_file), site), transport,
                          allow_insecure_http)
    outcome = run(lambda: api.push(folder, settings, status=status, date=date,
                                  update=update, site=site),
                  as_json=as_json)
    output.show(outcome, as_json=as_json, wordpress=True)
    sys.exit(output.exit_code(outcome))


@click.command()
@click.option("--json", "as_json", is_flag=True)
@site_option
@with_common
def doctor(as_json, site, env_file, verbose):
    """Check WordPress (every site of the sites file), credentials, companion plugin, LLM and
    database before spending tokens."""
    from .. import doctor as doctor_
    settings = setup(verbose, env_file)
    results = doctor_.run_checks(settings, env_file or ".env", site=site)
    if as_json:
        echo_json([r.__dict__ for r in results])
    else:
        for r in results:
            mark = {"ok": "ok  ", "warn": "warn", "fail": "FAIL", "skip": "skip"}[r.status]
            echo(f"[{mark}] {r.name}: {r.detail}" + (f"\n       fix: {r.fix}" if r.fix else ""))
    sys.exit(2 if any(r.status == "fail" for r in results) else 0)


def _overrides(settings, transport, allow_insecure_http):
    from dataclasses import replace
    if transport:
        settings = replace(settings, wp_transport=transport)
    if allow_insecure_http:
        settings = replace(settings, wp_allow_insecure_http=True)
    return settings
