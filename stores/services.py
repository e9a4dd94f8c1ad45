"""Writes for workspaces, Setup, API keys, installs, staff and roles, uninstall and redaction."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from assetlink_project.errors import (
    ApplicationError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from stores import permissions, principals, signals
from stores.models import (
    ApiKey,
    AssetCaption,
    Invitation,
    Member,
    OAuthState,
    Role,
    ShopifyStaff,
    Store,
    WebhookDelivery,
    Workspace,
    WorkspaceSettings,
    normalize_shop,
)

logger = logging.getLogger(__name__)

API_KEY_PREFIX = "al_"  # = stores.authentication.API_KEY_PREFIX


@transaction.atomic
def workspace_create(*, name: str, owner=None, **cloudinary) -> Workspace:
    """A workspace with default Setup; `owner` becomes its Master Admin."""
    workspace = Workspace(name=name, **cloudinary)
    workspace.full_clean()
    workspace.save()
    WorkspaceSettings.objects.create(workspace=workspace)
    if owner is not None:
        Member.objects.create(user=owner, workspace=workspace, role=Role.MASTER_ADMIN)
    return workspace


def settings_for(workspace: Workspace) -> WorkspaceSettings:
    return WorkspaceSettings.objects.get_or_create(workspace=workspace)[0]


SWATCH_FIELDS = ("swatch_metafield_namespace", "swatch_metafield_key")


class SetupInvalidError(InputError):
    """The saved Setup breaks a rule it is now saved with (saved before the rule existed):
    a run or dry run is refused before it reads or writes anything (a 400 naming the field)."""


def setup_check(setup: WorkspaceSettings, fields: tuple[str, ...] | None = None) -> None:
    """Raise SetupInvalidError naming the first of ``fields`` (default: all of Setup) whose saved
    value breaks its rule (Shopify's, Cloudinary's or Setup's own), and the rule."""
    names = [f.name for f in WorkspaceSettings._meta.concrete_fields]
    wanted = set(names if fields is None else fields)
    errors: dict[str, list[str]] = {}
    try:
        setup.clean_fields(exclude=[n for n in names if n not in wanted])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if fields is None and not errors:
        try:
            setup.clean()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        field = next(n for n in names if n in errors)
        raise SetupInvalidError(
            field,
            f"Setup's {field} ({getattr(setup, field)!r}) breaks a rule: "
            f"{' '.join(errors[field])} An admin changes it in Setup; nothing was started.",
        )


def setup_for_run(workspace: Workspace, fields: tuple[str, ...] | None = None):
    """The workspace's Setup, checked (setup_check) before a run or dry run starts from it."""
    setup = settings_for(workspace)
    setup_check(setup, fields)
    return setup


@transaction.atomic
def setup_update(*, user, workspace: Workspace, changes: dict) -> WorkspaceSettings:
    """Change Setup defaults: admins only; every value validated, nothing saved on error."""
    permissions.require_setup_change(user, workspace)
    setup = WorkspaceSettings.objects.select_for_update().get(pk=settings_for(workspace).pk)
    editable = {f.name for f in WorkspaceSettings._meta.concrete_fields} - {
        "id",
        "workspace",
        "updated_at",
    }
    unknown = sorted(set(changes) - editable)
    if unknown:
        raise ApplicationError(
            f"Unknown Setup field(s): {', '.join(unknown)}.", extra={"fields": unknown}
        )
    for name, value in changes.items():
        setattr(setup, name, value)
    try:
        setup.full_clean()
    except ValidationError as exc:
        raise ApplicationError(
            "Setup was not saved: "
            + "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()),
            extra={"errors": exc.message_dict},
        ) from exc
    setup.save()
    return setup


def _hash_api_secret(secret: str) -> str:
    # Keys are 256-bit random, so a keyed fast hash is enough (no password stretching needed).
    return hmac.new(settings.SECRET_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def api_key_create(*, user, store: Store, label: str) -> tuple[ApiKey, str]:
    """Create a key; the returned token is shown once and never stored."""
    permissions.require_setup_change(user, store.workspace, action="create API keys")
    label = (label or "").strip()
    if not label or len(label) > 100:
        raise ApplicationError("Give the API key a label of 1 to 100 characters.")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        store=store,
        label=label,
        prefix=prefix,
        secret_hash=_hash_api_secret(secret),
        created_by=principals.django_user(user),
    )
    return key, f"{API_KEY_PREFIX}{prefix}_{secret}"


def api_key_revoke(*, user, key: ApiKey) -> ApiKey:
    permissions.require_setup_change(user, key.store.workspace, action="revoke API keys")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_key_authenticate(token: str) -> ApiKey | None:
    """The active key a presented token belongs to (and mark it used), or None."""
    if not token.startswith(API_KEY_PREFIX) or token.count("_") < 2:
        return None
    prefix, _, secret = token[len(API_KEY_PREFIX) :].partition("_")
    key = ApiKey.objects.select_related("store__workspace").filter(prefix=prefix).first()
    if key is None or not key.is_active:
        return None
    if not hmac.compare_digest(key.secret_hash, _hash_api_secret(secret)):
        return None
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key


# --- install, tokens, uninstall and redaction ----------------------------------------------------


def store_save_grant(*, store: Store, grant) -> Store:
    """Store a `stores.oauth.TokenGrant` (encrypted tokens, expiries, scopes) on the store."""
    store.access_token = grant.access_token
    store.access_token_expires_at = grant.expires_at
    # A grant without a refresh token (non-expiring token) must not leave a stale one behind.
    store.refresh_token = grant.refresh_token or ""
    store.refresh_token_expires_at = grant.refresh_token_expires_at
    store.scopes = grant.scope
    store.save(
        update_fields=[
            "access_token",
            "access_token_expires_at",
            "refresh_token",
            "refresh_token_expires_at",
            "scopes",
        ]
    )
    return store


@sensitive_variables("grant")
def store_refresh_access_token(*, store_id: int, margin_seconds: int = 300) -> Store:
    """The store with an access token valid for `margin_seconds` more, refreshed if needed.

    Refresh tokens rotate on every use, so refreshes of one store are serialised by a row lock
    and the second caller finds the token already fresh.
    """
    from stores import oauth

    with transaction.atomic():
        store = Store.objects.select_for_update().get(pk=store_id)
        expires_at = store.access_token_expires_at
        if store.access_token and (
            expires_at is None or expires_at > timezone.now() + timedelta(seconds=margin_seconds)
        ):
            return store
        if not store.is_installed or not store.refresh_token:
            raise ApplicationError(
                f"{store.shop_domain} is not connected (uninstalled or never authorised); "
                "open AssetLink from the store's Shopify admin to reconnect it."
            )
        grant = oauth.refresh_offline_token(store.shop_domain, store.refresh_token.reveal())
        logger.info("Access token of %s refreshed", store.shop_domain)
        return store_save_grant(store=store, grant=grant)


def store_has_usable_token(store: Store, *, margin_seconds: int = 60) -> bool:
    """An access token that is set and not about to expire (or a refresh token to renew it)."""
    if not store.access_token:
        return False
    expires_at = store.access_token_expires_at
    if expires_at is None or expires_at > timezone.now() + timedelta(seconds=margin_seconds):
        return True
    refresh_expires = store.refresh_token_expires_at
    return bool(store.refresh_token) and (
        refresh_expires is None or refresh_expires > timezone.now()
    )


OAUTH_STATE_MAX_AGE_SECONDS = 600


class StoreInAnotherWorkspace(ApplicationError):
    status_code = 409


def store_connect_check(*, shop_domain: str, workspace: Workspace) -> None:
    """A store belongs to one workspace: connecting it to another is refused, never a move."""
    store = Store.objects.filter(shop_domain=shop_domain).first()
    if store is not None and store.workspace_id != workspace.pk:
        # The other workspace is not named: it is another tenant's.
        raise StoreInAnotherWorkspace(
            f"{shop_domain} is already connected to another AssetLink workspace, and a store "
            "belongs to one workspace. Ask that workspace's Master Admin to uninstall AssetLink "
            "from the store first, then connect it here."
        )


def oauth_state_create(
    *, shop_domain: str, user=None, workspace: Workspace | None = None
) -> OAuthState:
    """The single-use `state` of an authorization-code install (expired ones are dropped)."""
    OAuthState.objects.filter(
        created_at__lt=timezone.now() - timedelta(seconds=OAUTH_STATE_MAX_AGE_SECONDS)
    ).delete()
    return OAuthState.objects.create(
        nonce=secrets.token_urlsafe(32),
        shop_domain=shop_domain,
        user=user if getattr(user, "is_authenticated", False) else None,
        workspace=workspace,
    )


def store_connect_start(*, user, workspace: Workspace, shop_domain: str) -> OAuthState:
    """Setup's "Connect a store": an install bound to `workspace` (admins only)."""
    permissions.require_setup_change(user, workspace, action="connect stores")
    shop = (shop_domain or "").strip().lower()
    if shop and "." not in shop:
        shop += ".myshopify.com"
    shop = normalize_shop(shop)  # the install's rule, e.g. a label of at most 63 characters
    if shop is None:
        raise ApplicationError(
            f"{shop_domain!r} is not a Shopify store domain; use the store's myshopify.com "
            "domain, e.g. demo-3.myshopify.com.",
            extra={"field": "shop"},
        )
    store_connect_check(shop_domain=shop, workspace=workspace)
    logger.info("Connecting %s to workspace %s started", shop, workspace.pk)
    return oauth_state_create(shop_domain=shop, user=user, workspace=workspace)


def store_connect_finish_check(*, user, workspace: Workspace, shop_domain: str) -> None:
    """At the callback of a Connect a store, before any token: whoever started it must still
    be allowed to (a role taken away meanwhile ends it) and the store still free to join.
    A state with a workspace and no user is made only by the operator's `shopify_install`
    command (stores.dev_install, sandbox only); Setup's states always name their admin."""
    if user is not None:
        permissions.require_setup_change(user, workspace, action="connect stores")
    store_connect_check(shop_domain=shop_domain, workspace=workspace)


@transaction.atomic
def store_install(
    *, shop_domain: str, grant, installer=None, workspace: Workspace | None = None
) -> Store:
    """Create the store or reactivate it, and save its tokens.

    With `workspace` (an admin connected it from Setup) a new store joins that workspace, and
    a store of another workspace is refused (`StoreInAnotherWorkspace`). Without, a new store
    gets a new workspace whose Master Admin is `installer` when known (a logged-in user started
    the install); otherwise the first staff member who opens the app with a session token
    (`staff_arrive`) — in practice the installer, whom Shopify sends to the app right after
    approving it. A known store is reinstalled in its own workspace.
    """
    store = Store.objects.select_for_update().filter(shop_domain=shop_domain).first()
    if store is not None and store.installed_at is None:
        store = _store_rehome_unclaimed(store, installer=installer, workspace=workspace)
    if store is None:
        try:
            with transaction.atomic():
                if workspace is not None:
                    store = Store.objects.create(
                        workspace=workspace, shop_domain=shop_domain, installed_at=timezone.now()
                    )
                    logger.info("Store %s connected to workspace %s", shop_domain, workspace.pk)
                else:
                    store = _store_create(shop_domain=shop_domain, installer=installer)
                return store_save_grant(store=store, grant=grant)
        except IntegrityError:
            # A concurrent first load created it (two tabs, or App Bridge retrying): use it.
            store = Store.objects.select_for_update().get(shop_domain=shop_domain)
    if workspace is not None:
        store_connect_check(shop_domain=shop_domain, workspace=workspace)
    if not store.is_installed:
        store.installed_at = timezone.now()
        store.uninstalled_at = None
        store.save(update_fields=["installed_at", "uninstalled_at"])
        logger.info("Store %s reinstalled", shop_domain)
    # A known store stays in its workspace, and whoever is logged in in the browser that
    # installed it does not join that workspace: access to a store's Shopify admin is no
    # workspace login (its staff arrive through session tokens); joining a workspace is
    # accepting its Master Admin's invitation (`invitation_accept`).
    return store_save_grant(store=store, grant=grant)


def _workspace_name_for(shop_domain: str) -> str:
    return shop_domain.removesuffix(".myshopify.com")


def _store_rehome_unclaimed(store: Store, *, installer, workspace=None) -> Store:
    """A row for a shop that never installed — not made by an install, so whoever made it has
    no claim on the shop: it starts over in a new workspace, like a first install (or in the
    workspace an admin is connecting it to from Setup)."""
    logger.warning(
        "Store row %s was never installed (workspace %s): not adopted; installing it into a "
        "new workspace",
        store.shop_domain,
        store.workspace_id,
    )
    ApiKey.objects.filter(store=store).delete()
    ShopifyStaff.objects.filter(store=store).delete()
    store.plans.clear()
    store.upload_batches.clear()
    store.workspace = workspace or workspace_create(
        name=_workspace_name_for(store.shop_domain), owner=installer
    )
    store.installed_at = timezone.now()
    store.uninstalled_at = None
    store.awaiting_master_admin = installer is None
    store.save(
        update_fields=["workspace", "installed_at", "uninstalled_at", "awaiting_master_admin"]
    )
    return store


def _store_create(*, shop_domain: str, installer) -> Store:
    if normalize_shop(shop_domain) != shop_domain:
        raise ApplicationError(f"{shop_domain!r} is not a myshopify.com shop domain.")
    workspace = workspace_create(name=_workspace_name_for(shop_domain), owner=installer)
    store = Store.objects.create(
        workspace=workspace,
        shop_domain=shop_domain,
        installed_at=timezone.now(),
        awaiting_master_admin=installer is None,
    )
    logger.info("Store %s installed into new workspace %s", shop_domain, workspace.pk)
    return store


def _staff_username(store: Store, shopify_user_id: str) -> str:
    return f"shopify:{store.shop_domain.removesuffix('.myshopify.com')}:{shopify_user_id}"[:150]


def staff_arrive(*, store: Store, shopify_user_id: str):
    """The Django user of a Shopify staff member (session token `sub`), made a Member on arrival.

    New staff arrive with the role User, except the first after a first install, who becomes
    the workspace's Master Admin (see `store_install`). A known member takes the fast path: no
    lock, at most one small write.
    """
    staff = (
        ShopifyStaff.objects.select_related("user")
        .filter(store=store, shopify_user_id=shopify_user_id)
        .first()
    )
    if (
        staff is not None
        and not store.awaiting_master_admin
        and Member.objects.filter(user=staff.user, workspace_id=store.workspace_id).exists()
    ):
        ShopifyStaff.objects.filter(
            pk=staff.pk, last_seen_at__lt=timezone.now() - timedelta(minutes=5)
        ).update(last_seen_at=timezone.now())
        return staff.user
    return _staff_join(store=store, shopify_user_id=shopify_user_id)


@transaction.atomic
def _staff_join(*, store: Store, shopify_user_id: str):
    store = Store.objects.select_for_update().get(pk=store.pk)
    staff = (
        ShopifyStaff.objects.select_related("user")
        .filter(store=store, shopify_user_id=shopify_user_id)
        .first()
    )
    if staff is None:
        user, _ = get_user_model().objects.get_or_create(
            username=_staff_username(store, shopify_user_id)
        )
        if user.has_usable_password():
            user.set_unusable_password()
            user.save(update_fields=["password"])
        staff = ShopifyStaff.objects.create(store=store, shopify_user_id=shopify_user_id, user=user)
    member = Member.objects.filter(user=staff.user, workspace=store.workspace).first()
    if member is None:
        role = Role.MASTER_ADMIN if store.awaiting_master_admin else Role.USER
        member = Member.objects.create(user=staff.user, workspace=store.workspace, role=role)
        logger.info(
            "Staff %s of %s joined workspace %s as %s",
            shopify_user_id,
            store.shop_domain,
            store.workspace_id,
            role,
        )
    if store.awaiting_master_admin:
        store.awaiting_master_admin = False
        store.save(update_fields=["awaiting_master_admin"])
    return staff.user


@transaction.atomic
def store_uninstall(*, shop_domain: str, triggered_at: datetime | None = None) -> Store | None:
    """`app/uninstalled`: mark uninstalled, erase tokens, revoke API keys, stop runs. Idempotent.

    The runs layer receives `store_uninstalled` (`reports.receivers`): queued runs end, running
    ones stop at their next safe point. Reinstalling brings the store back in its workspace;
    revoked API keys stay revoked.

    An uninstall triggered before the store's latest install (a late retry) is ignored.
    """
    store = Store.objects.select_for_update().filter(shop_domain=shop_domain).first()
    if store is None:
        return None
    if triggered_at and store.installed_at and triggered_at < store.installed_at:
        logger.info("Ignored an uninstall of %s from before its reinstall", shop_domain)
        return store
    store.uninstalled_at = timezone.now()
    store.access_token = ""
    store.access_token_expires_at = None
    store.refresh_token = ""
    store.refresh_token_expires_at = None
    store.save(
        update_fields=[
            "uninstalled_at",
            "access_token",
            "access_token_expires_at",
            "refresh_token",
            "refresh_token_expires_at",
        ]
    )
    revoked = ApiKey.objects.filter(store=store, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    signals.store_uninstalled.send(sender=Store, store=store)
    logger.info("Store %s uninstalled; tokens erased, %s API keys revoked", shop_domain, revoked)
    return store


@transaction.atomic
def store_erase(*, shop_domain: str) -> bool:
    """`shop/redact`: erase everything held about an uninstalled store. Returns whether it
    erased one (an installed store is left alone).

    Plans and upload batches are erased by their apps through `store_erasing`; runs, report
    rows, link records and the catalog index go with the store row (cascades); the store's
    API keys, staff accounts, OAuth states and Django admin log entries go here. Webhook
    deliveries of the shop keep only their id and topic (so Shopify's retries of this very
    request are still recognised). The workspace stays (it may serve other stores); one that
    was named after the shop at install is renamed.
    """
    from django.contrib.admin.models import LogEntry

    store = Store.objects.select_for_update().filter(shop_domain=shop_domain).first()
    if store is not None and store.is_installed:
        # Shopify asks 48 hours after an uninstall; a store that is installed (again) keeps
        # its data — a late or replayed request must not erase a store in use.
        logger.warning("Ignored shop/redact of %s: the store is installed", shop_domain)
        return False
    OAuthState.objects.filter(shop_domain=shop_domain).delete()
    WebhookDelivery.objects.filter(shop_domain=shop_domain).update(shop_domain="")
    LogEntry.objects.filter(object_repr__contains=shop_domain).delete()
    if store is None:
        return False
    signals.store_erasing.send(sender=Store, store=store)
    staff_users = list(ShopifyStaff.objects.filter(store=store).values_list("user_id", flat=True))
    ApiKey.objects.filter(store=store).delete()
    workspace = store.workspace
    store.delete()
    # Staff accounts exist only to represent this store's staff: remove them and their
    # memberships, unless the account also serves another store.
    get_user_model().objects.filter(pk__in=staff_users, shopify_staff__isnull=True).delete()
    if workspace.name == _workspace_name_for(shop_domain):
        workspace.name = f"Workspace {workspace.pk}"
        workspace.save(update_fields=["name"])
    logger.info("Store %s erased (shop/redact)", shop_domain)
    return True


# --- roles -------------------------------------------------------------------------------------


def member_role_change_check(*, user, member: Member, role: str) -> None:
    """Raise if `user` may not give `member` the role `role` (rules + last Master Admin)."""
    if role not in Role.values:
        raise ApplicationError(
            f"Unknown role {role!r}; use one of {', '.join(Role.values)}.",
            extra={"roles": list(Role.values)},
        )
    permissions.require_role_change(user, member, role)
    if role != Role.MASTER_ADMIN:
        last_master_admin_check(member=member, doing="changing this role")


def last_master_admin_check(*, member: Member, doing: str) -> None:
    """A workspace keeps at least one Master Admin: the last one can be neither demoted nor
    removed (Setup, API and Django admin all come through here)."""
    if member.role != Role.MASTER_ADMIN:
        return
    others = Member.objects.filter(workspace=member.workspace, role=Role.MASTER_ADMIN).exclude(
        pk=member.pk
    )
    if not others.exists():
        raise ApplicationError(
            f"{member.workspace.name} needs at least one Master Admin: make someone else "
            f"Master Admin before {doing}."
        )


def _lock_master_admins(workspace_id: int) -> None:
    # Two demotions or removals at once must not leave none.
    list(
        Member.objects.select_for_update().filter(workspace_id=workspace_id, role=Role.MASTER_ADMIN)
    )


def member_remove_check(*, user, member: Member) -> None:
    permissions.require_master_admin(user, member.workspace, action="remove members")
    last_master_admin_check(member=member, doing=f"removing {member.user.get_username()}")


@transaction.atomic
def member_remove(*, user, member: Member) -> None:
    """Take someone out of a workspace (Master Admins); never its last Master Admin."""
    _lock_master_admins(member.workspace_id)
    member = (
        Member.objects.select_for_update().select_related("workspace", "user").get(pk=member.pk)
    )
    member_remove_check(user=user, member=member)
    logger.info("Member %s removed from workspace %s", member.pk, member.workspace_id)
    member.delete()


# --- invitations -------------------------------------------------------------------------------

INVITATION_DAYS = 7


def _invitation_token_hash(token: str) -> str:
    # The token is 256-bit random: a plain hash is enough, and none of its links survive a leak
    # of the table.
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    from django.urls import reverse

    return settings.APP_URL.rstrip("/") + reverse("invitation", kwargs={"token": token})


def _invitation_email(invitation: Invitation, url: str) -> bool:
    """Send the link to an email address when an email backend is configured; True if sent."""
    from django.core.mail import send_mail

    no_email = settings.EMAIL_BACKEND == "django.core.mail.backends.dummy.EmailBackend"
    if "@" not in invitation.invitee or no_email:
        return False
    try:
        send_mail(
            f"Join {invitation.workspace.name} on AssetLink",
            f"You are invited to join {invitation.workspace.name} on AssetLink as "
            f"{invitation.get_role_display()}.\n\nOpen this link to accept (it works until "
            f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC):\n{url}\n",
            None,
            [invitation.invitee],
        )
    except Exception:  # noqa: BLE001 - the invitation stands; the link is shown to the admin
        logger.exception("Invitation %s: the email could not be sent", invitation.pk)
        return False
    return True


@transaction.atomic
def member_invite(*, user, workspace: Workspace, identifier: str, role: str = Role.USER):
    """Invite someone to a workspace (Master Admins) by email or username: (invitation, url,
    emailed). Nobody becomes a member here: the invitee accepts the link (invitation_accept).
    What it answers never depends on whether an account has that name or address."""
    permissions.require_master_admin(user, workspace, action="invite members")
    if role not in Role.values:
        raise ApplicationError(
            f"Unknown role {role!r}; use one of {', '.join(Role.values)}.",
            extra={"roles": list(Role.values), "field": "role"},
        )
    identifier = (identifier or "").strip()
    if not identifier or len(identifier) > Invitation._meta.get_field("invitee").max_length:
        raise ApplicationError("Give an email address or a username.", extra={"field": "user"})
    # Already in this workspace (which its Master Admin sees anyway): say so.
    existing = (
        Member.objects.filter(workspace=workspace)
        .filter(Q(user__username__iexact=identifier) | Q(user__email__iexact=identifier))
        .select_related("user")
        .first()
    )
    if existing is not None:
        raise ApplicationError(
            f"{existing.user.get_username()} is already a member of {workspace.name} "
            f"({existing.get_role_display()}); change their role instead.",
            extra={"field": "user"},
        )
    now = timezone.now()
    # A new invitation of the same name replaces the pending one (its link stops working).
    Invitation.objects.pending(now).filter(workspace=workspace, invitee__iexact=identifier).update(
        revoked_at=now
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        workspace=workspace,
        invitee=identifier,
        role=role,
        invited_by=user if isinstance(user, get_user_model()) else None,
        token_hash=_invitation_token_hash(token),
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    logger.info("Invitation %s to workspace %s as %s", invitation.pk, workspace.pk, role)
    url = invitation_url(token)
    return invitation, url, _invitation_email(invitation, url)


def invitation_revoke(*, user, invitation: Invitation) -> Invitation:
    permissions.require_master_admin(user, invitation.workspace, action="revoke invitations")
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        logger.info("Invitation %s revoked", invitation.pk)
    return invitation


class InvitationGone(ApplicationError):
    status_code = 410


def invitation_for_token(token: str, *, for_update: bool = False) -> Invitation:
    """The invitation of a link, still open to accept; a clear 404 or 410 otherwise."""
    invitations = Invitation.objects.select_related("workspace")
    if for_update:
        invitations = invitations.select_for_update()
    invitation = invitations.filter(token_hash=_invitation_token_hash(token or "")).first()
    if invitation is None:
        raise NotFoundError("This invitation link is not valid. Check that it is complete.")
    again = " Ask a Master Admin of the workspace for a new invitation."
    if invitation.accepted_at is not None:
        raise InvitationGone("This invitation has already been accepted." + again)
    if invitation.revoked_at is not None:
        raise InvitationGone("This invitation was withdrawn." + again)
    if invitation.expires_at <= timezone.now():
        raise InvitationGone("This invitation has expired." + again)
    return invitation


def invitation_is_for(invitation: Invitation, user) -> bool:
    """An invitation is for the account whose username or email address it names."""
    named = invitation.invitee.casefold()
    email = (getattr(user, "email", "") or "").casefold()
    return user.get_username().casefold() == named or (bool(email) and email == named)


@transaction.atomic
def invitation_accept(*, user, token: str) -> Member:
    """The logged-in invitee joins the workspace with the invited role."""
    invitation = invitation_for_token(token, for_update=True)
    if not isinstance(user, get_user_model()) or not invitation_is_for(invitation, user):
        raise PermissionDeniedError(
            "This invitation is for another account: log in with the username or email "
            "address it was sent to, then open the link again."
        )
    member, created = Member.objects.get_or_create(
        user=user, workspace=invitation.workspace, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    logger.info(
        "Invitation %s accepted: member %s of workspace %s%s",
        invitation.pk,
        member.pk,
        invitation.workspace_id,
        "" if created else " (already a member; role unchanged)",
    )
    return member


@transaction.atomic
def invitation_sign_up(*, token: str, username: str, password: str):
    """A new account for the invitee of an email invitation, which then accepts it: (user,
    member). Always a new account (an existing one logs in instead); nothing here depends on
    whether another account uses the address."""
    invitation = invitation_for_token(token, for_update=True)
    if "@" not in invitation.invitee:
        raise ApplicationError("Log in with the account this invitation names to accept it.")
    new = get_user_model().objects.create_user(
        username=username, email=invitation.invitee.lower(), password=password
    )
    return new, invitation_accept(user=new, token=token)


@transaction.atomic
def member_role_change(*, user, member: Member, role: str) -> Member:
    _lock_master_admins(member.workspace_id)
    member = Member.objects.select_for_update().select_related("workspace").get(pk=member.pk)
    member_role_change_check(user=user, member=member, role=role)
    if member.role != role:
        logger.info(
            "Role of member %s in workspace %s: %s -> %s",
            member.pk,
            member.workspace_id,
            member.role,
            role,
        )
        member.role = role
        member.save(update_fields=["role"])
    return member


# --- embedded sessions ---------------------------------------------------------------------------


class StoreNotInstalled(ApplicationError):
    status_code = 401


def session_token_arrive(session_token, *, allow_exchange: bool):
    """(store, user) for a validated session token.

    Document loads (`allow_exchange=True`) exchange the token for an offline token when the
    store is new, was uninstalled, or has no usable token — Shopify-managed installs arrive
    this way. API calls (`allow_exchange=False`) need a known, installed store.
    """
    from stores import oauth  # network code stays out of this module's import time

    store = Store.objects.filter(shop_domain=session_token.shop).first()
    needs_token = store is None or not store.is_installed or not store_has_usable_token(store)
    if needs_token:
        if not allow_exchange:
            raise StoreNotInstalled(
                f"{session_token.shop} has not installed AssetLink (or uninstalled it)."
            )
        grant = oauth.exchange_session_token(session_token)
        store = store_install(shop_domain=session_token.shop, grant=grant)
    user = staff_arrive(store=store, shopify_user_id=session_token.user_id)
    return store, user


# --- housekeeping ------------------------------------------------------------------------------


def webhook_deliveries_prune(*, older_than_days: int | None = None) -> int:
    """Delete processed webhook deliveries older than the retention (WEBHOOK_RETENTION_DAYS);
    returns how many. Shopify retries a delivery for 48 hours, so only older ones may go."""
    days = older_than_days or settings.WEBHOOK_RETENTION_DAYS
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = WebhookDelivery.objects.filter(received_at__lt=cutoff).delete()
    if deleted:
        logger.info("Deleted %s webhook deliveries older than %s days", deleted, days)
    return deleted


# --- Cloudinary ----------------------------------------------------------------------------------


_CLOUDINARY_CREDENTIAL_RE = re.compile(r"[\x21-\x7e]+\Z")
"""Cloudinary API keys and secrets: printable ASCII (they travel in a Basic auth header)."""


@sensitive_variables("api_secret")
def _cloudinary_credentials(workspace: Workspace, cloud_name: str, api_key: str, api_secret: str):
    """The credentials to check: an empty secret means "keep the saved one" (write-only)."""
    from stores.cloudinary import Credentials

    cloud_name, api_key, api_secret = (v.strip() for v in (cloud_name, api_key, api_secret))
    errors = {}
    if not re.match(r"^[a-zA-Z0-9_-]{1,100}$", cloud_name):
        errors["cloud_name"] = "Letters, digits, - and _ only (Cloudinary console → Dashboard)."
    if not api_key or len(api_key) > 100:
        errors["api_key"] = "Copy the API key from the Cloudinary console (Settings → API Keys)."
    elif not _CLOUDINARY_CREDENTIAL_RE.match(api_key):
        errors["api_key"] = (
            "The API key has characters Cloudinary keys never have (only ASCII letters, digits "
            "and punctuation): copy it again from the Cloudinary console."
        )
    saved = workspace.cloudinary_api_secret
    if not api_secret and saved:
        api_secret = saved.reveal()
    if not api_secret:
        errors["api_secret"] = "Copy the API secret from the Cloudinary console."
    elif not _CLOUDINARY_CREDENTIAL_RE.match(api_secret) or len(api_secret) > 200:
        # Named, never echoed: the secret is not in the message.
        errors["api_secret"] = (
            "The API secret has characters Cloudinary secrets never have (only ASCII letters, "
            "digits and punctuation): copy it again from the Cloudinary console."
        )
    if errors:
        raise ApplicationError(
            "The Cloudinary connection was not saved: " + " ".join(errors.values()),
            extra={"errors": errors},
        )
    return Credentials(cloud_name=cloud_name, api_key=api_key, api_secret=api_secret)


@sensitive_variables("api_secret")
def cloudinary_connection_test(
    *, user, workspace: Workspace, cloud_name: str, api_key: str, api_secret: str = ""
):
    """Check credentials before they are saved (admins): a `ConnectionCheck`."""
    from stores.cloudinary import CloudinaryClient

    permissions.require_setup_change(user, workspace, action="change the Cloudinary connection")
    credentials = _cloudinary_credentials(workspace, cloud_name, api_key, api_secret)
    return CloudinaryClient(credentials).test_connection()


@sensitive_variables("api_secret")
def cloudinary_connection_update(
    *, user, workspace: Workspace, cloud_name: str, api_key: str, api_secret: str = ""
) -> Workspace:
    """Save the workspace's Cloudinary credentials once Cloudinary accepts them (admins).

    The secret is write-only: stored encrypted, never returned; empty keeps the saved one."""
    from stores.cloudinary import CloudinaryClient

    permissions.require_setup_change(user, workspace, action="change the Cloudinary connection")
    credentials = _cloudinary_credentials(workspace, cloud_name, api_key, api_secret)
    check = CloudinaryClient(credentials).test_connection()
    if not check.ok:
        raise ApplicationError(
            f"The Cloudinary connection was not saved: {check.message}",
            extra={"problem": check.problem},
        )
    with transaction.atomic():
        workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
        workspace.cloudinary_cloud_name = credentials.cloud_name
        workspace.cloudinary_api_key = credentials.api_key
        workspace.cloudinary_api_secret = credentials.api_secret
        workspace.save(
            update_fields=["cloudinary_cloud_name", "cloudinary_api_key", "cloudinary_api_secret"]
        )
    logger.info("Cloudinary connection of workspace %s set to %s", workspace.pk, check.message)
    return workspace


def asset_caption(*, cloudinary, asset) -> str:
    """Cloudinary's AI caption of an asset version, asked for once and then read from the cache.

    Raises `stores.cloudinary.CaptionUnavailable` when Cloudinary has none (yet)."""
    cloud = cloudinary.credentials.cloud_name
    cached = AssetCaption.objects.filter(
        cloud_name=cloud, asset_id=asset.asset_id, version=asset.version
    ).first()
    if cached is not None:
        return cached.caption
    text = cloudinary.caption(asset)
    AssetCaption.objects.update_or_create(
        cloud_name=cloud, asset_id=asset.asset_id, version=asset.version, defaults={"caption": text}
    )
    return text
