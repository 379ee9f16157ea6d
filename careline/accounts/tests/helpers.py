"""Small helpers shared by the accounts tests."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

PERSONA_NAMES = ["admin", "front_a", "clinician_a", "billing_a", "front_b"]


def current_code(device: TOTPDevice) -> str:
    """The code the person's authenticator app would show right now (under time_machine, the travelled now)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def post_login(client: Client, email: str, password: str, next_url: str = "") -> Any:
    data = {"email": email, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("accounts:login"), data)


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session
