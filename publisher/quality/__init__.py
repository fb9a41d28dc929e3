"""The quality gate: length, structure, language and faithfulness to the sources.

``run_gate(article, sources, brief, llm)`` is the entry point (see gate.py); the checks it runs
are plain functions usable on their own: ``structure.check_structure``,
``language.detect_language`` / ``language.markdown_leaks``, ``facts.untraceable``.
"""

from .gate import run_gate

__all__ = ["run_gate"]
