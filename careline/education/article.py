"""An article's text as safe HTML: everything is escaped first, then a few plain-text marks become tags.

Paragraphs are separated by blank lines; a line starting with "# " or "## " is a heading, lines starting with
"- " a list, **words** bold. No raw HTML, links or images ever pass (the text is escaped before any mark).
"""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline(text: str) -> str:
    return _BOLD.sub(r"<strong>\1</strong>", escape(text))


def article_html(body: str) -> SafeString:
    """BODY rendered as paragraphs, headings, lists and bold; all other characters escaped."""
    parts: list[str] = []
    for block in re.split(r"\n\s*\n", body.replace("\r\n", "\n").strip()):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        if len(lines) == 1 and lines[0].startswith("#"):
            heading = lines[0].lstrip("#").strip()
            parts.append(f"<h2>{_inline(heading)}</h2>")
        elif all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{_inline(line[2:])}</li>" for line in lines)
            parts.append(f"<ul>{items}</ul>")
        else:
            parts.append(f"<p>{'<br>'.join(_inline(line) for line in lines)}</p>")
    return mark_safe("".join(parts))  # every piece of text was escaped above
