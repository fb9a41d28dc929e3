"""Counting words the way an editor's word processor does: the rules live in publisher/words.py
(below every stage, so the writer measures as the quality checks do without importing them);
the quality checks keep importing them from here."""

from __future__ import annotations

from ..words import STRIP_MARKS, article_words, block_words, count_words, section_words, visible

__all__ = ["STRIP_MARKS", "article_words", "block_words", "count_words", "section_words",
           "visible"]
