"""Sign-in throttling: an account-and-address pair locks after a few failures, an address after more.

Locking the account alone let anyone keep any account (the only administrator's included) locked from
anywhere, and let one address guess a few passwords on every account. So axes counts failures per
(email, address) pair and per address (AXES_LOCKOUT_PARAMETERS), and this handler applies a separate,
higher limit to the address: the owner signing in from their own address is not locked out by someone
guessing elsewhere, and one address cannot spread its guesses over many accounts. Wrong two-factor codes
count like wrong passwords (the code page sends the same signal). Administrators unlock an account on its
staff page or with `manage.py unlock_account <email>`.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django_otp.plugins.otp_totp.models import TOTPDevice


def _failures(attempts: Any) -> int:
    return int(attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0)


class CarelineAxesHandler(AxesDatabaseHandler):
    """axes' database handler with one limit for the account-and-address pair and a higher one per address."""

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        """The pair's failures, or the pair limit once the address alone has reached its own limit."""
        pair_limit = int(settings.AXES_FAILURE_LIMIT)
        address_limit = int(settings.CARELINE_LOGIN_ADDRESS_FAILURE_LIMIT)
        pair_failures = 0
        address_failures = 0
        parameters = get_lockout_parameters(request, credentials)
        # axes returns one queryset per entry of AXES_LOCKOUT_PARAMETERS, in the same order.
        for parameter, attempts in zip(parameters, self.get_user_attempts(request, credentials), strict=True):
            names = [parameter] if isinstance(parameter, str) else list(parameter)
            count = _failures(attempts)
            if "username" in names:
                pair_failures = max(pair_failures, count)
            else:
                address_failures = max(address_failures, count)
        if address_failures >= address_limit:
            return max(pair_failures, pair_limit)
        return pair_failures

    def reset_user_attempts(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        """On a successful sign-in, clear that account's failures from this address only.

        axes would clear every filter's matches, the whole address's included: one valid account would
        then wipe the address's guesses at every other account.
        """
        username = get_client_username(request, credentials)
        deleted, _ = AccessAttempt.objects.filter(
            username=username, ip_address=request.axes_ip_address
        ).delete()
        return int(deleted)


def address_unlock(address: str) -> int:
    """Clear every failed sign-in recorded from ADDRESS; how many records were cleared."""
    return int(AccessAttempt.objects.filter(ip_address=address).delete()[0])


def account_lock_count(email: str) -> int:
    """How many addresses currently have failed sign-ins recorded against EMAIL."""
    return AccessAttempt.objects.filter(username__iexact=email).count()


def account_unlock(email: str) -> int:
    """Clear EMAIL's failed sign-ins (every address) and its authenticator's wrong-code delay.

    Returns how many records were cleared. Auditing is the caller's (the service that knows who asked).
    """
    cleared = int(AxesProxyHandler.reset_attempts(username=email) or 0)
    # axes keeps the username as typed; sign-in is case-insensitive, so clear any spelling.
    cleared += AccessAttempt.objects.filter(username__iexact=email).delete()[0]
    for device in TOTPDevice.objects.filter(user__email__iexact=email, throttling_failure_count__gt=0):
        device.throttle_reset()
        cleared += 1
    return cleared
