"""Bounded memos for the pure text functions the gate and the SEO stage call again and again.

One story runs the quality gate twice and the SEO checks half a dozen times over texts that are
mostly the same (the article before and after each fix, the same sources every time), so a
function of a string, or of a frozen Article, Section or Block, keeps its recent answers
(``functools.lru_cache``: thread-safe, bounded, the same answer as computing afresh). A value
built with lists instead of tuples cannot be a key and is simply computed. The memos are sized
for about ten stories in flight (a feed run's workers): a few megabytes in all, at most.
"""

from __future__ import annotations

import functools
import sys
from typing import Callable, TypeVar

from .length import article_words, count_words, section_words

_A = TypeVar("_A")
_T = TypeVar("_T")


def memo(maxsize: int) -> Callable[[Callable[[_A], _T]], Callable[[_A], _T]]:
    """Memoize a pure function of one hashable value; unhashable values are computed afresh.
    What it returns is shared between callers: return immutable values (str, tuple, frozen)."""
    def decorate(fn: Callable[[_A], _T]) -> Callable[[_A], _T]:
        cached = functools.lru_cache(maxsize=maxsize)(fn)
        # The same object asked again (a scoring loop over one article) skips hashing it: a
        # frozen Article hashes every block each time. One tuple, replaced whole: thread-safe.
        last: list = [None]

        @functools.wraps(fn)
        def wrapper(value: _A) -> _T:
            hit = last[0]
            if hit is not None and hit[0] is value:
                return hit[1]
            try:
                result = cached(value)
            except TypeError:                # unhashable (lists inside): no memo
                return fn(value)
            last[0] = (value, result)
            return result

        def cache_clear() -> None:
            last[0] = None
            cached.cache_clear()

        wrapper.cache_clear = cache_clear               # type: ignore[attr-defined]
        return wrapper
    return decorate


per_article = memo(32)        # a few recent articles: one story's passes, a few threads

# length.py's counters, memoized (same answers): sources and bodies are counted many times.
word_count = memo(4096)(count_words)
article_word_count = per_article(article_words)
section_word_count = memo(1024)(section_words)


def clear_all() -> None:
    """Forget every memo of the quality and SEO stages: a benchmark that re-runs the same
    article in one process calls this to measure a cold process (``publisher draft``), not a
    warm one."""
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(("publisher.seo", "publisher.quality")):
            continue
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()
