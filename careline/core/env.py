"""Typed readers for environment variables: every setting comes from here and fails loudly on bad values."""

from __future__ import annotations

import os
import zoneinfo
from datetime import time
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


class ConfigurationError(ImproperlyConfigured):
    """A bad environment variable; the message names it."""


def _raw(name: str) -> str | None:
    """The value of NAME, or the contents of the file named by NAME_FILE (for secrets)."""
    value = os.environ.get(name)
    if value is not None and value != "":
        return value
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ConfigurationError(f"{name}_FILE: cannot read {file_name!r} ({exc.strerror})") from exc
    return None


def env_str(name: str, default: str) -> str:
    """A string setting."""
    value = _raw(name)
    return default if value is None else value


def env_optional(name: str) -> str | None:
    """A string setting with no default."""
    return _raw(name)


def env_bool(name: str, default: bool) -> bool:
    """A yes/no setting: 1/0, true/false, yes/no, on/off."""
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name}: expected true or false, got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """A whole-number setting within optional bounds."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigurationError(f"{name}: expected a whole number, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ConfigurationError(f"{name}: must be at least {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise ConfigurationError(f"{name}: must be at most {maximum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list setting."""
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int_list(name: str, default: list[int], *, minimum: int, maximum: int) -> tuple[int, ...]:
    """A comma-separated list of whole numbers within bounds, largest first, without repeats."""
    numbers = set()
    for item in env_list(name, [str(number) for number in default]):
        try:
            number = int(item)
        except ValueError:
            raise ConfigurationError(
                f"{name}: expected whole numbers separated by commas, got {item!r}"
            ) from None
        if not minimum <= number <= maximum:
            raise ConfigurationError(f"{name}: each number must be from {minimum} to {maximum}, got {number}")
        numbers.add(number)
    return tuple(sorted(numbers, reverse=True))


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """A setting that must be one of CHOICES."""
    value = env_str(name, default).strip().lower()
    if value not in choices:
        raise ConfigurationError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def env_currency(name: str, default: str) -> str:
    """An ISO 4217 currency code (three letters, e.g. USD), upper-cased."""
    value = env_str(name, default).strip().upper()
    if len(value) != 3 or not value.isascii() or not value.isalpha():
        raise ConfigurationError(
            f"{name}: expected a three-letter ISO 4217 currency code such as USD, got {value!r}"
        )
    return value


def env_time_zone(name: str, default: str) -> str:
    """An IANA time zone name such as America/New_York."""
    value = env_str(name, default).strip()
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"{name}: unknown time zone {value!r} (use an IANA name)") from None
    return value


def env_url(name: str, default: str, *, schemes: tuple[str, ...]) -> str:
    """A URL whose scheme is one of SCHEMES."""
    value = env_str(name, default).strip()
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    if scheme not in schemes:
        raise ConfigurationError(
            f"{name}: expected a URL starting with {' or '.join(s + '://' for s in schemes)}"
        )
    return value


def env_time_range(name: str, default: str) -> tuple[time, time]:
    """A daily window such as 08:00-20:00 (start before end)."""
    value = env_str(name, default).strip()
    try:
        start_text, end_text = (part.strip() for part in value.split("-", 1))
        start, end = time.fromisoformat(start_text), time.fromisoformat(end_text)
    except ValueError:
        raise ConfigurationError(f"{name}: expected a range like 08:00-20:00, got {value!r}") from None
    if start >= end:
        raise ConfigurationError(f"{name}: the start must be before the end, got {value!r}")
    return start, end
