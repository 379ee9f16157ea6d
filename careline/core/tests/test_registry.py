"""Plugin registries load the classes a settings list names, once and on first use; a wrong list fails with
a message naming the setting, and an unknown code names what is installed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import override_settings
from django.urls import Resolver404, URLPattern, URLResolver, path, resolve

from careline.core.registry import Plugin, Registry, UnknownPlugin

HERE = __name__


class Connector(Plugin):
    """The base of a kind of plugin (as ChannelType is for channel types)."""


class Alpha(Connector):
    code = "alpha"
    name = "Alpha"

    def urlpatterns(self) -> list[URLPattern | URLResolver]:
        return [path("hook", lambda request: HttpResponse("alpha"), name="test-registry-alpha-hook")]


class Beta(Connector):
    code = "beta"
    name = "Beta"


class AlphaAgain(Connector):
    code = "alpha"
    name = "Another alpha"


class BadCode(Connector):
    code = "Not A Slug"
    name = "Bad"


class NotAConnector(Plugin):
    code = "stranger"
    name = "Stranger"


def _registry() -> Registry[Connector]:
    return Registry(setting="TEST_CONNECTORS", base=Connector, noun="connector")


@override_settings(TEST_CONNECTORS=[f"{HERE}.Alpha", f"{HERE}.Beta"])
def test_plugins_load_in_the_settings_order_and_are_found_by_code():
    registry = _registry()
    assert list(registry.all()) == ["alpha", "beta"]
    assert isinstance(registry.get("beta"), Beta)
    assert registry.get("alpha") is registry.get("alpha")  # one instance
    assert registry.choices() == [("alpha", "Alpha"), ("beta", "Beta")]
    assert "alpha" in registry and "gamma" not in registry
    with pytest.raises(UnknownPlugin, match=r"no connector 'gamma' is installed \(installed: alpha, beta"):
        registry.get("gamma")


def test_nothing_is_imported_before_first_use():
    registry = Registry(setting="TEST_CONNECTORS_NEVER_SET", base=Connector, noun="connector")
    with pytest.raises(ImproperlyConfigured, match="TEST_CONNECTORS_NEVER_SET must be a list"):
        registry.all()


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        ([f"{HERE}.Alpha", f"{HERE}.AlphaAgain"], "two connectors have the code 'alpha'"),
        ([f"{HERE}.Missing"], "cannot import"),
        (["careline.nowhere.Type"], "cannot import"),
        ([f"{HERE}.NotAConnector"], "is not a Connector subclass"),
        ([f"{HERE}.BadCode"], "needs a code of lowercase letters"),
        (f"{HERE}.Alpha", "must be a list"),
    ],
)
def test_a_wrong_settings_list_is_refused_with_the_setting_named(paths, message):
    registry = _registry()
    with override_settings(TEST_CONNECTORS=paths), pytest.raises(ImproperlyConfigured, match=message):
        registry.all()


def test_the_list_is_read_again_when_the_setting_changes():
    registry = _registry()
    with override_settings(TEST_CONNECTORS=[f"{HERE}.Alpha"]):
        assert list(registry.all()) == ["alpha"]
    with override_settings(TEST_CONNECTORS=[f"{HERE}.Beta"]):
        assert list(registry.all()) == ["beta"]


def test_each_plugin_brings_its_urls_under_its_code(settings):
    registry = _registry()
    settings.TEST_CONNECTORS = [f"{HERE}.Alpha", f"{HERE}.Beta"]
    resolver = registry.url_resolver("hooks/")
    assert resolver.resolve("hooks/alpha/hook").url_name == "test-registry-alpha-hook"
    with pytest.raises(Resolver404):
        resolver.resolve("hooks/beta/hook")  # Beta has no URLs
    settings.TEST_CONNECTORS = [f"{HERE}.Beta"]
    with pytest.raises(Resolver404):
        resolver.resolve("hooks/alpha/hook")
    with pytest.raises(Resolver404):
        resolve("/hooks/alpha/hook")  # not mounted in the project's URLs
