"""Exit statuses of every command, in one place (the README's table follows it).

0 ok · 1 internal error · 2 usage or configuration · 3 the token was refused (401/403)
· 4 the server could not be reached or failed · 5 the report was bad · 6 a ``watch``
budget was exceeded · 128 + n ended by signal n.
"""

from __future__ import annotations

from tui.client import UsageError

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_UNREACHABLE = 4
EXIT_BAD_REPORT = 5
EXIT_BUDGET = 6
EXIT_SIGNAL_BASE = 128


def exit_code(error: UsageError) -> int:
    """The status for a failed fetch."""
    if error.is_auth:
        return EXIT_AUTH
    if error.kind == "bad_report":
        return EXIT_BAD_REPORT
    return EXIT_UNREACHABLE
