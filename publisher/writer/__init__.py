"""The writer stage: sources + brief → Article through an OpenAI-compatible LLM.

    llm.py     LLM: the one openai client (structured output with fallbacks, retries, usage)
    write.py   write_article() and the targeted repairs the quality gate asks for
    prompts/   the French prompts, as plain text files
"""

from .llm import LLM, LLMTruncated, parse_json_object
from .write import (ARTICLE_SCHEMA, article_from_json, article_to_json, expand_sections,
                    fix_claims, plan_budget, rewrite_in_french, write_article)

__all__ = ["LLM", "LLMTruncated", "parse_json_object", "ARTICLE_SCHEMA", "article_from_json",
           "article_to_json", "expand_sections", "fix_claims", "plan_budget",
           "rewrite_in_french", "write_article"]
