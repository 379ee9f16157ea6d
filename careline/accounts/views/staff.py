"""Administration pages: staff accounts, their roles and authenticators, and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render, resolve_url
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from careline.accounts import queries, services
from careline.accounts.forms import ApiTokenCreateForm, StaffCreateForm, StaffEditForm
from careline.accounts.lockout import account_lock_count
from careline.accounts.models import ApiToken, User
from careline.core.actor import Actor
from careline.core.permissions import Perm, require_perm


def _apply_rule_error(
    form: StaffCreateForm | StaffEditForm | ApiTokenCreateForm, error: services.StaffRuleError
) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@require_perm(Perm.STAFF_MANAGE)
@require_http_methods(["GET"])
def staff_list(request: HttpRequest) -> HttpResponse:
    """Every staff account with roles, locations, two-factor status and whether it is active."""
    staff = list(queries.staff_with_details())
    return render(request, "accounts/staff_list.html", {"staff": staff, "nav": "admin", "admin_tab": "staff"})


@sensitive_post_parameters("password1", "password2")
@require_perm(Perm.STAFF_MANAGE)
@require_http_methods(["GET", "POST"])
def staff_create(request: HttpRequest) -> HttpResponse:
    """Create a staff account with an initial password."""
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actor = Actor.from_request(request)
        try:
            user = services.staff_create(
                email=data["email"],
                full_name=data["full_name"],
                title=data["title"],
                mobile=data["mobile"],
                roles=data["roles"],
                locations=data["locations"],
                password=data["password1"],
                actor=actor,
            )
        except services.StaffRuleError as error:
            _apply_rule_error(form, error)
        else:
            messages.success(request, f"{user.full_name} can now sign in with {user.email}.")
            return HttpResponseRedirect(resolve_url("accounts:staff_list"))
    context = {"form": form, "nav": "admin", "admin_tab": "staff", "title": "New staff account"}
    return render(request, "accounts/staff_form.html", context)


@sensitive_post_parameters("password1", "password2")
@require_perm(Perm.STAFF_MANAGE)
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a staff account's details, roles, locations, active flag or password."""
    staff_user = get_object_or_404(User, pk=pk)
    form = StaffEditForm(request.POST or None, user=staff_user)
    actor = Actor.from_request(request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.staff_update(
                user=staff_user,
                actor=actor,
                email=data["email"],
                full_name=data["full_name"],
                title=data["title"],
                mobile=data["mobile"],
                roles=data["roles"],
                locations=data["locations"],
                is_active=data["is_active"],
                new_password=data.get("password1") or "",
            )
        except services.StaffRuleError as error:
            _apply_rule_error(form, error)
        else:
            messages.success(request, f"{staff_user.full_name}'s account is saved.")
            return HttpResponseRedirect(resolve_url("accounts:staff_list"))
    context = {
        "form": form,
        "staff_user": staff_user,
        "has_mfa": staff_user.has_confirmed_totp,
        "failed_sign_in_addresses": account_lock_count(staff_user.email),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "is_self": staff_user.pk == actor.user_id,
        "nav": "admin",
        "admin_tab": "staff",
        "title": f"Edit {staff_user.full_name or staff_user.email}",
    }
    return render(request, "accounts/staff_form.html", context)


@require_perm(Perm.STAFF_MANAGE)
@require_POST
def staff_mfa_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a person's authenticator (lost phone); they set up a new one at their next sign-in."""
    staff_user = get_object_or_404(User, pk=pk)
    actor = Actor.from_request(request)
    try:
        services.mfa_device_reset(user=staff_user, actor=actor)
    except services.StaffRuleError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"{staff_user.full_name}'s authenticator is removed. They set up a new one at sign-in."
        )
    return HttpResponseRedirect(resolve_url("accounts:staff_edit", pk=staff_user.pk))


@require_perm(Perm.STAFF_MANAGE)
@require_POST
def staff_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    """Lift a person's sign-in lock now (they were locked out by wrong passwords or codes); audited."""
    staff_user = get_object_or_404(User, pk=pk)
    actor = Actor.from_request(request)
    services.account_unlock(user=staff_user, actor=actor)
    messages.success(request, f"{staff_user.full_name or staff_user.email} can sign in again now.")
    return HttpResponseRedirect(resolve_url("accounts:staff_edit", pk=staff_user.pk))


# The token just created, kept in the session between the POST and the page it redirects to (post/redirect/
# get: reloading that page creates nothing); the GET takes it out, so it is shown once.
NEW_TOKEN_SESSION_KEY = "accounts_new_api_token"  # noqa: S105 (a session key, not a secret)


def _new_token_shown_once(request: HttpRequest) -> tuple[ApiToken | None, str]:
    """The token created by this session's last POST and its secret, taken out of the session (once)."""
    kept = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    if not isinstance(kept, dict):
        return None, ""
    token_id = kept.get("id")
    token = ApiToken.objects.filter(pk=token_id).first() if isinstance(token_id, int) else None
    secret = str(kept.get("secret") or "")
    return (token, secret) if token is not None and secret else (None, "")


@require_perm(Perm.API_TOKEN_MANAGE)
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """List API tokens and create one; a new token is shown once, on the page the creation redirects to."""
    form = ApiTokenCreateForm(request.POST or None)
    new_secret = ""
    new_token: ApiToken | None = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            actor = Actor.from_request(request)
            try:
                created, secret = services.api_token_create(
                    user=form.cleaned_data["user"],
                    name=form.cleaned_data["name"],
                    expires_in_days=form.cleaned_data["expires_in_days"],
                    actor=actor,
                )
            except services.StaffRuleError as error:
                _apply_rule_error(form, error)
            else:
                request.session[NEW_TOKEN_SESSION_KEY] = {"id": created.pk, "secret": secret}
                return HttpResponseRedirect(resolve_url("accounts:api_tokens"), status=303)
        status = 400
    else:
        new_token, new_secret = _new_token_shown_once(request)
    context = {
        "form": form,
        "tokens": list(queries.api_tokens_with_owners()),
        "new_secret": new_secret,
        "new_token": new_token,
        "nav": "admin",
        "admin_tab": "tokens",
    }
    return render(request, "accounts/api_tokens.html", context, status=status)


@require_perm(Perm.API_TOKEN_MANAGE)
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke a token at once."""
    token = get_object_or_404(ApiToken, pk=pk)
    actor = Actor.from_request(request)
    services.api_token_revoke(token=token, actor=actor)
    messages.success(request, f"The token “{token.name}” is revoked.")
    return HttpResponseRedirect(resolve_url("accounts:api_tokens"))
