"""SEO stage: Article (+ sources) → SeoMeta, the Yoast-like checks, and the safe fixes.

    build.py    build_seo() and one builder per field: keyphrase, meta title, meta
                description, slug, excerpt (tags and category come from tags.py)
    tags.py     entities and topics → 3–8 normalised tags; the site category
    checks.py   seo_checks(): SEO and readability checks, each rule's threshold and source
                documented in its docstring table
    fix.py      improve(): deterministic fixes that invent nothing; explain() says why what
                stays red cannot be fixed; repair_instructions() words it for an LLM repair
    french.py   folding, stop words, sentences, transition words, passive voice, syllables
    text.py     the article as Yoast reads it (first paragraph, headings, body) and the
                keyphrase matching rules
    width.py    title width in pixels (Arial 20 px, Google's 600 px column)

Everything here is pure: no I/O, no LLM call.
"""
