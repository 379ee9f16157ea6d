"""The registry of channel types: the one place that knows every type."""

from __future__ import annotations

from importlib import import_module

from careline.messaging.channels.base import ChannelType

_TYPES: dict[str, ChannelType] = {}

# Packages under careline/messaging/channels/ with a type.py; add a provider by adding its package here.
TYPE_PACKAGES = ("simulator", "email", "twilio")


def register(channel_type_class: type[ChannelType]) -> type[ChannelType]:
    """Class decorator: make a channel type available under its code."""
    _TYPES[channel_type_class.code] = channel_type_class()
    return channel_type_class


def load_channel_types() -> None:
    """Import every type package so its @register runs."""
    for package in TYPE_PACKAGES:
        import_module(f"careline.messaging.channels.{package}.type")


def channel_type(code: str) -> ChannelType:
    """The type registered under CODE; KeyError for an unknown code."""
    if code not in _TYPES:
        # Load the packages even when some type registered itself first (a test or a plugin imported early).
        load_channel_types()
    return _TYPES[code]


def channel_types() -> dict[str, ChannelType]:
    if not _TYPES:
        load_channel_types()
    return dict(_TYPES)
