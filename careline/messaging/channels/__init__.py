"""The installed channel types: `settings.CARELINE_CHANNEL_TYPES` lists them (see careline/core/registry.py)."""

from __future__ import annotations

from careline.core.registry import Registry, UnknownPlugin
from careline.messaging.channels.base import ChannelType

CHANNEL_TYPES: Registry[ChannelType] = Registry(
    setting="CARELINE_CHANNEL_TYPES", base=ChannelType, noun="channel type"
)

UnknownChannelType = UnknownPlugin


def channel_type(code: str) -> ChannelType:
    """The installed type with CODE; UnknownChannelType (naming the installed ones) otherwise."""
    return CHANNEL_TYPES.get(code)


def channel_types() -> dict[str, ChannelType]:
    """Every installed type by code, in the settings' order."""
    return CHANNEL_TYPES.all()


def channel_type_choices() -> list[tuple[str, str]]:
    """(code, name) of the installed types: the choices of Channel.type_code."""
    return CHANNEL_TYPES.choices()


def channel_inbox_label(type_code: str) -> str:
    """The label the inbox shows beside conversations of the type TYPE_CODE ("" for none or an uninstalled one)."""
    try:
        return channel_type(type_code).inbox_label
    except UnknownChannelType:
        return ""
