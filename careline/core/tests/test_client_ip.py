"""The client's address behind the documented reverse proxy, never one the client chose."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from careline.core.audit import audit_record
from careline.core.models import AuditAction
from careline.core.network import client_ip

PROXY = "10.0.0.2"


def _request(forwarded: str | None = None, remote: str = PROXY):
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings):
    settings.CARELINE_TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request("198.51.100.7")) == PROXY


def test_behind_one_proxy_the_address_it_appended_is_the_client(settings):
    settings.CARELINE_TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request("203.0.113.9")) == "203.0.113.9"


def test_addresses_the_client_put_in_the_header_are_not_believed(settings):
    settings.CARELINE_TRUSTED_PROXY_COUNT = 1
    # The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the address it really came from.
    assert client_ip(_request("1.2.3.4, 203.0.113.9")) == "203.0.113.9"


def test_behind_two_proxies_the_second_entry_from_the_right_is_the_client(settings):
    settings.CARELINE_TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request("1.2.3.4, 203.0.113.9, 10.0.0.7")) == "203.0.113.9"


@pytest.mark.parametrize("header", [None, "", " , "])
def test_a_request_that_skipped_the_proxies_counts_as_its_direct_peer(settings, header):
    settings.CARELINE_TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request(header, remote="192.0.2.44")) == "192.0.2.44"


@pytest.mark.parametrize("garbage", ["not-an-address", "<script>", "999.1.1.1", "unknown"])
def test_a_forwarded_value_that_is_not_an_address_falls_back_to_the_peer(settings, garbage):
    settings.CARELINE_TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request(garbage)) == PROXY


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("203.0.113.9:5123", "203.0.113.9"),
        ("[2001:DB8::1]:443", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
    ],
)
def test_ports_are_dropped_and_ipv6_is_normalised(settings, header, expected):
    settings.CARELINE_TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request(header)) == expected


@pytest.mark.django_db
def test_the_audit_trail_records_the_forwarded_client_address(settings):
    settings.CARELINE_TRUSTED_PROXY_COUNT = 1
    entry = audit_record(action=AuditAction.LOGIN_FAILED, request=_request("1.2.3.4, 203.0.113.9"))
    assert entry.ip_address == "203.0.113.9"
