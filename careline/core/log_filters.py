"""Logging filters named by settings.LOGGING."""

from __future__ import annotations

import logging


class QuietRefusals(logging.Filter):
    """Drop the stack trace from the warning Django logs for a refused request (a 4xx).

    Django logs a PermissionDenied with the exception attached, so every ordinary 403 (a signed-in user
    without the permission) printed a traceback that buried real errors. The one warning line (status,
    reason, path) stays; errors (5xx) keep their trace.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500 and record.levelno < logging.ERROR:
            record.exc_info = None
            record.exc_text = None
        return True
