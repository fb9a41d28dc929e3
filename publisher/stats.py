"""``publisher stats``: what the workers did and what waits, read from PUBLISHER_DB.

    throughput   stories drafted in the last 10 minutes, hour and day (per minute / hour)
    queue        stories waiting and being drafted, per site and per worker (the engine's)
    workers      each worker identity, its host and pid, seconds since its heartbeat
    sites        outcomes per site over --days: drafted, skipped and failed by reason
    usage        LLM calls, tokens and cost per site and day
    retries      stories waiting for their next attempt and stories abandoned, per site and
                 last reason (all time: an abandoned story stays abandoned)
"""

from __future__ import annotations

from .config import Settings
from .models import ABANDONED, DRAFTED, DRY_RUN, FAILED, RETRY_STATUSES

STALE = 60.0     # seconds without a heartbeat: the worker is shown as gone


def collect(settings: Settings, days: int = 7, site: str | None = None) -> dict:
    from .api import open_store
    from .state import stats as q
    from .state.limits import list_workers
    from .workflows import queue_depth
    store = open_store(settings)
    try:
        since = q.iso_ago(days=days)
        report = {
            "throughput": _throughput(store, site),
            "queue": _only_site(queue_depth(settings), site),
            "workers": [dict(w, alive=w["age"] < STALE) for w in list_workers(store)],
            "sites": _sites(q.outcomes_by_site(store, since, site)),
            "usage": q.usage_by_site_and_day(store, since, site),
            "retries": _retries(q.stories_by_status(store, site)),
            "days": days,
        }
    finally:
        store.close()
    return report


def _throughput(store, site) -> dict:
    from .state import stats as q
    ten, hour, day = (q.drafted_since(store, q.iso_ago(**span), site)
                      for span in ({"minutes": 10}, {"hours": 1}, {"days": 1}))
    first, last = q.first_and_last_drafted(store, q.iso_ago(hours=1), site)
    return {"drafted_10min": ten, "drafted_1h": hour, "drafted_24h": day,
            "per_minute_10min": round(ten / 10, 2), "per_hour_24h": round(day / 24, 2),
            "first_drafted_1h": first, "last_drafted_1h": last}


def _only_site(depth: dict, site: str | None) -> dict:
    if not site:
        return depth
    one = depth["sites"].get(site, {"queued": 0, "running": 0})
    return {**one, "sites": {site: one}, "workers": depth["workers"]}


def _sites(rows: list[dict]) -> dict:
    sites: dict = {}
    for row in rows:
        entry = sites.setdefault(row["site"] or "default",
                                 {"drafted": 0, "skipped": {}, "failed": {}, "total": 0})
        entry["total"] += row["count"]
        if row["kind"] in (DRAFTED, DRY_RUN):
            entry["drafted"] += row["count"]
        else:
            bucket = entry["failed" if row["kind"] == FAILED else "skipped"]
            bucket[row["reason"] or row["kind"]] = bucket.get(row["reason"] or row["kind"], 0) \
                + row["count"]
    return sites


def _retries(rows: list[dict]) -> dict:
    retries: dict = {}
    for row in rows:
        if row["status"] not in RETRY_STATUSES:
            continue
        entry = retries.setdefault(row["site"] or "default", {"retrying": {}, "abandoned": {}})
        bucket = entry["abandoned" if row["status"] == ABANDONED else "retrying"]
        reason = row["reason"] or row["status"]
        bucket[reason] = bucket.get(reason, 0) + int(row["count"])
    return retries


def render(report: dict) -> str:
    """The report for a terminal, one block per section."""
    t, queue = report["throughput"], report["queue"]
    lines = [f"throughput: {t['drafted_10min']} drafted in 10 min ({t['per_minute_10min']}/min), "
             f"{t['drafted_1h']} in 1 h, {t['drafted_24h']} in 24 h",
             f"queue: {queue['queued']} waiting, {queue['running']} being drafted"]
    for name, depth in sorted(queue["sites"].items()):
        lines.append(f"  {name:20} {depth['queued']:5} waiting {depth['running']:4} running")
    lines.append("workers:" + ("" if report["workers"] else " none yet"))
    for w in report["workers"]:
        state = "up" if w["alive"] else "gone"
        lines.append(f"  {w['worker_id']:24} {state:4} {w['host']} pid {w['pid']} "
                     f"(heartbeat {w['age']:.0f} s ago)")
    lines.append(f"sites (last {report['days']} days):")
    for name, s in sorted(report["sites"].items()):
        failed = ", ".join(f"{k} {v}" for k, v in sorted(s["failed"].items())) or "none"
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(s["skipped"].items())) or "none"
        lines.append(f"  {name:20} {s['drafted']} drafted; failed: {failed}; skipped: {skipped}")
    lines.append("retries (failed stories):" + ("" if report["retries"] else " none"))
    for name, r in sorted(report["retries"].items()):
        waiting = ", ".join(f"{k} {v}" for k, v in sorted(r["retrying"].items())) or "none"
        gone = ", ".join(f"{k} {v}" for k, v in sorted(r["abandoned"].items())) or "none"
        lines.append(f"  {name:20} waiting: {waiting}; abandoned: {gone}")
    lines.append("tokens and cost per site and day:")
    for u in report["usage"]:
        lines.append(f"  {u['day']} {u['site'] or 'default':20} {u['calls']:5} calls "
                     f"{u['tokens']:>10} tokens ${u['cost']:.4f}")
    return "\n".join(lines)
