"""The writer stage: sources + brief → Article through an OpenAI-compatible LLM.

    llm.py     LLM: the one openai client (structured output with fallbacks, retries, usage)
    write.py   write_article() and the targeted repairs the quality gate asks for
    prompts/   the French prompts, as plain text files
    discover.py  a local OpenAI-compatible server, found when no LLM is configured
    probe.py     what an LLM server supports (for ``publisher doctor``)

Imports are lazy: ``publisher.writer.discover`` runs on draft's start-up path and must not
pay for the openai client (about a second of CPU) when no server is found.
"""


__all__ = ["LLM", "LLMTruncated", "parse_json_object", "ARTICLE_SCHEMA", "article_from_json",
           "article_to_json", "expand_sections", "fix_claims", "plan_budget",
           "rewrite_in_french", "write_article"]


# late imports: the names load their module on first use (see above: openai costs a second)
def __getattr__(name):
    if name in ("LLM", "LLMTruncated", "parse_json_object"):
        from . import llm
        return getattr(llm, name)
    if name in __all__:
        from . import write
        return getattr(write, name)
    raise AttributeError(f"module 'publisher.writer' has no attribute {name!r}")
