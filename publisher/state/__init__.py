"""publisher's own tables (sources seen, outcomes, posts, LLM calls, feed polling).

    from publisher.state import Store
    store = Store(settings.db, secrets=settings.secrets())
"""

from .db import Store, engine_url
from .migrations import MIGRATIONS

__all__ = ["Store", "engine_url", "MIGRATIONS"]
