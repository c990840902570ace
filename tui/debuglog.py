"""``--debug FILE``: a log of what the monitor asks and hears, with secrets scrubbed.

The TUI owns the terminal, so the log goes to a file (created 0600). Our client logs
each request and answer with credential headers replaced; httpx and httpcore log
their own steps. A last filter removes the token itself and any ``Bearer …`` or
``Authorization: …`` value from every record, whoever wrote it, in case a library or
a server echo ever carries one.
"""

from __future__ import annotations

import logging
import os
import re

from tui.client import Secret

# An Authorization value (whatever its scheme) up to the end of the value, unless it
# is our own already-redacted form; then any bearer credential anywhere.
_AUTHORIZATION = re.compile(
    r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(?!\s*bearer ‹redacted›)[^'\"\n,}]+"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)(?!‹redacted›)[^\s'\",}]+")


class RedactingFilter(logging.Filter):
    def __init__(self, token: Secret) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        text = self._token.redact(record.getMessage())
        text = _AUTHORIZATION.sub(r"\1‹redacted›", text)
        record.msg = _BEARER.sub(r"\1‹redacted›", text)
        record.args = None
        return True


class _QuietHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A log that cannot be written (a full disk) must not spill over the screen."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass


def configure(path: str, token: Secret) -> logging.Handler:
    """Log at DEBUG to ``path`` (appending); returns the handler so it can be removed."""
    # Not through a symlink: the log is chmod-ed 0600, and that must be our own file.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    if os.path.isfile(path):
        os.fchmod(fd, 0o600)  # an older log, made readable by others: not any more
    stream = os.fdopen(fd, "a", encoding="utf-8")
    handler = _QuietHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter(token))
    for name in ("vectros_usage", "httpx", "httpcore"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    return handler
