"""Plugin registries: the installed kinds of a thing (channel types, later payment providers and EHR
connectors) listed by dotted path in a settings list, loaded once on first use.

    CHANNEL_TYPES = Registry(setting="CARELINE_CHANNEL_TYPES", base=ChannelType, noun="channel type")
    CHANNEL_TYPES.get(code)          # the instance; UnknownPlugin (with the installed codes) otherwise
    CHANNEL_TYPES.all()              # {code: instance}, in the settings' order
    CHANNEL_TYPES.choices()          # [(code, name)] for a model field's choices
    path("webhooks/", CHANNEL_TYPES.url_resolver())   # each plugin's urlpatterns() under "<code>/"

A plugin subclasses `Plugin`: a `code` (a URL-safe slug, unique in its registry), a `name`, and the
URL patterns its webhooks need. Adding a provider is one package and one line in the settings list.
"""

from __future__ import annotations

import re
import threading
from importlib import import_module
from typing import Any, ClassVar, Generic, TypeVar, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.urls import URLPattern, URLResolver, clear_url_caches, include, path
from django.urls.resolvers import RoutePattern
from django.utils.module_loading import import_string

CODE_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,29}")


class Plugin:
    """Base class of everything a registry holds."""

    code: ClassVar[str]
    name: ClassVar[str]
    # The dotted path of a module with `urlpatterns` (the plugin's webhooks), named rather than imported so
    # the views can import their plugin without an import cycle (Django's include-by-string).
    urls_module: ClassVar[str | None] = None

    def urlpatterns(self) -> list[URLPattern | URLResolver]:
        """This plugin's URL patterns (webhooks), mounted by its registry under "<code>/"."""
        if self.urls_module is None:
            return []
        return list(import_module(self.urls_module).urlpatterns)


class UnknownPlugin(LookupError):
    """No installed plugin has the code asked for."""

    # A page listing rows of a type since uninstalled shows a blank there instead of failing.
    silent_variable_failure = True


P = TypeVar("P", bound=Plugin)


class Registry(Generic[P]):
    """The plugins named by a settings list of dotted class paths, each instantiated once."""

    def __init__(self, *, setting: str, base: type[Plugin], noun: str) -> None:
        self.setting = setting
        self.base = base
        self.noun = noun
        self._items: dict[str, P] | None = None
        self._lock = threading.Lock()
        self._resolvers: list[_RegistryURLResolver] = []
        # Tests install other plugins with override_settings: the next use loads the new list.
        setting_changed.connect(self._setting_changed)

    def _setting_changed(self, *, setting: str, **kwargs: Any) -> None:
        if setting == self.setting:
            self.reset()

    def reset(self) -> None:
        """Forget the loaded plugins (and the URLs built from them); the next use loads the setting again."""
        with self._lock:
            self._items = None
        for resolver in self._resolvers:
            resolver.refresh()
        clear_url_caches()

    def all(self) -> dict[str, P]:
        """Every installed plugin by code, in the order of the settings list."""
        items = self._items
        if items is None:
            with self._lock:
                if self._items is None:
                    self._items = self._load()
                items = self._items
        return dict(items)

    def get(self, code: str) -> P:
        """The plugin with CODE; UnknownPlugin, naming the installed codes, when there is none."""
        items = self.all()
        try:
            return items[code]
        except KeyError:
            installed = ", ".join(items) or "none"
            raise UnknownPlugin(
                f"no {self.noun} {code!r} is installed (installed: {installed}; see settings.{self.setting})"
            ) from None

    def __contains__(self, code: object) -> bool:
        return code in self.all()

    def choices(self) -> list[tuple[str, str]]:
        """(code, name) of every installed plugin: a model field's or a form's choices."""
        return [(code, item.name) for code, item in self.all().items()]

    def url_resolver(self, prefix: str = "") -> URLResolver:
        """A URL resolver with each plugin's urlpatterns() under "PREFIX<code>/" (kept current on reset)."""
        resolver = _RegistryURLResolver(RoutePattern(prefix), _RegistryURLConf(self))
        self._resolvers.append(resolver)
        return resolver

    def _load(self) -> dict[str, P]:
        paths = getattr(settings, self.setting, None)
        if not isinstance(paths, list | tuple):
            raise ImproperlyConfigured(f"settings.{self.setting} must be a list of dotted class paths")
        items: dict[str, P] = {}
        for dotted in paths:
            try:
                cls = import_string(str(dotted))
            except ImportError as exc:
                raise ImproperlyConfigured(
                    f"settings.{self.setting}: cannot import {dotted!r}: {exc}"
                ) from exc
            if not (isinstance(cls, type) and issubclass(cls, self.base)):
                raise ImproperlyConfigured(
                    f"settings.{self.setting}: {dotted!r} is not a {self.base.__name__} subclass"
                )
            code = getattr(cls, "code", "")
            if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
                raise ImproperlyConfigured(
                    f"settings.{self.setting}: {dotted!r} needs a code of lowercase letters, digits, - or _"
                )
            if code in items:
                raise ImproperlyConfigured(
                    f"settings.{self.setting}: two {self.noun}s have the code {code!r} "
                    f"({type(items[code]).__module__}.{type(items[code]).__qualname__} and {dotted})"
                )
            items[code] = cast(P, cls())
        return items


class _RegistryURLConf:
    """The URL configuration of a registry: asked again whenever the resolver is refreshed."""

    def __init__(self, registry: Registry[Any]) -> None:
        self.registry = registry

    @property
    def urlpatterns(self) -> list[URLResolver]:
        mounted = []
        for code, item in self.registry.all().items():
            patterns = item.urlpatterns()
            if patterns:
                mounted.append(path(f"{code}/", include(patterns)))
        return mounted


class _RegistryURLResolver(URLResolver):
    """A resolver over a registry's plugins; `refresh` makes it ask the registry again."""

    def __init__(self, pattern: RoutePattern, urlconf: _RegistryURLConf) -> None:
        # Django reads `urlpatterns` from any object standing for a URLconf module.
        super().__init__(pattern, cast(Any, urlconf))
        self._urlconf = urlconf

    def refresh(self) -> None:
        """Drop the patterns and reverse lookups cached from the previous plugin list."""
        for cached in ("url_patterns", "urlconf_module"):
            self.__dict__.pop(cached, None)
        super().__init__(self.pattern, cast(Any, self._urlconf))
