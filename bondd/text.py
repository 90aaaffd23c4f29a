"""Text from configuration files made safe for one log or terminal line.

Names and values from YAML and control requests end up in messages. A
newline in them would forge a second log line on stderr; an escape sequence
or a bidi override would rewrite what the admin's terminal shows. So every
character that is not printable is written as its Python escape. Pure.
"""

from __future__ import annotations


def one_line(text: str) -> str:
    """`text` with every non-printable character (newline, ESC, U+202E...) escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def clipped(text: str, limit: int) -> str:
    """`text` made one line (see `one_line`) and cut to `limit` characters, marked with '...'.

    A value quoted from a file can be a megabyte long; a message quoting it
    stays readable."""
    line = one_line(text)
    return line if len(line) <= limit else line[: limit - 3] + "..."
