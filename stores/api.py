"""HTTP API for workspaces, Setup, members and roles, API keys (thin: validation in
serializers, rules in services/permissions, reads in selectors scoped to the request)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from assetlink_project.api_input import ChoiceWithOldSpellings
from common.alt_text import ALT_SOURCE_CHOICES, OLD_ALT_SOURCE_SPELLINGS
from stores import permissions, selectors, services
from stores.models import (
    MAX_POSITION,
    ApiKey,
    Invitation,
    Member,
    Role,
    Store,
    Workspace,
    WorkspaceSettings,
)
from stores.views import authorize_url, set_state_cookie

READ_ONLY_SETUP = ("id", "workspace", "updated_at")


class SetupSerializer(serializers.ModelSerializer):
    alt_text_source = ChoiceWithOldSpellings(
        ALT_SOURCE_CHOICES, old_spellings=OLD_ALT_SOURCE_SPELLINGS, required=False
    )

    class Meta:
        model = WorkspaceSettings
        exclude = ["id", "workspace"]
        read_only_fields = ["updated_at"]
        extra_kwargs = {"default_position": {"max_value": MAX_POSITION}}

    def build_standard_field(self, field_name, model_field):
        # A model field's own message for "too long" (Shopify's rule, stores.models) is the
        # API's too: DRF would otherwise answer its generic one.
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if "max_length" in model_field.error_messages:
            kwargs["error_messages"] = {
                **kwargs.get("error_messages", {}),
                "max_length": model_field.error_messages["max_length"],
            }
        return field_class, kwargs


class WorkspaceSerializer(serializers.ModelSerializer):
    can_change_setup = serializers.SerializerMethodField()
    stores = serializers.SerializerMethodField(help_text="Shop domains the caller reaches.")

    class Meta:
        model = Workspace
        fields = ["id", "name", "cloudinary_cloud_name", "stores", "can_change_setup"]

    # Read once for the whole list (not a query per workspace): the workspaces the caller
    # administers (permissions.can_change_setup's rule) and the stores it reaches in each.
    def get_can_change_setup(self, obj) -> bool:
        if "administered" not in self.context:
            administered = selectors.workspaces_administered_by(self.context["request"].user)
            self.context["administered"] = set(administered.values_list("pk", flat=True))
        return obj.pk in self.context["administered"]

    def get_stores(self, obj) -> list[str]:
        if "stores" not in self.context:
            self.context["stores"] = {}
            reached = selectors.stores_for_request(self.context["request"]).order_by("shop_domain")
            for workspace_id, domain in reached.values_list("workspace_id", "shop_domain"):
                self.context["stores"].setdefault(workspace_id, []).append(domain)
        return self.context["stores"].get(obj.pk, [])


def _workspace(request, workspace_id: int) -> Workspace:
    # 404 for workspaces the caller is not a member of: they must not learn they exist.
    # A session token or API key reaches only its own store's workspace.
    return get_object_or_404(selectors.workspaces_for_request(request), pk=workspace_id)


def _store(request, store_id: int) -> Store:
    return get_object_or_404(
        selectors.stores_for_request(request).select_related("workspace"), pk=store_id
    )


class WorkspaceListView(APIView):
    @extend_schema(responses=WorkspaceSerializer(many=True))
    def get(self, request):
        data = WorkspaceSerializer(
            selectors.workspaces_for_request(request), many=True, context={"request": request}
        ).data
        return Response(data)


class SetupView(APIView):
    @extend_schema(responses=SetupSerializer)
    def get(self, request, workspace_id: int):
        workspace = _workspace(request, workspace_id)
        return Response(SetupSerializer(services.settings_for(workspace)).data)

    @extend_schema(request=SetupSerializer, responses=SetupSerializer)
    def patch(self, request, workspace_id: int):
        workspace = _workspace(request, workspace_id)
        permissions.require_setup_change(request.user, workspace)
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"detail": "Send a JSON object of Setup fields."})
        unknown = sorted(set(request.data) - set(SetupSerializer().fields))
        if unknown:
            raise serializers.ValidationError(
                {field: ["Unknown Setup field."] for field in unknown}
            )
        serializer = SetupSerializer(
            services.settings_for(workspace), data=request.data, partial=True
        )
        serializer.is_valid(raise_exception=True)
        setup = services.setup_update(
            user=request.user, workspace=workspace, changes=dict(serializer.validated_data)
        )
        return Response(SetupSerializer(setup).data)


class SessionView(APIView):
    """Who the request acts as, and which store it is scoped to."""

    @extend_schema(
        responses=inline_serializer(
            "Session",
            {
                "user": serializers.CharField(),
                "method": serializers.ChoiceField(["login", "session_token", "api_key"]),
                "store": serializers.CharField(allow_null=True),
                "workspaces": serializers.ListField(child=serializers.IntegerField()),
            },
        )
    )
    def get(self, request):
        scope = selectors.request_scope(request)
        return Response(
            {
                "user": request.user.get_username(),
                "method": scope.method if scope else "login",
                "store": scope.store.shop_domain if scope else None,
                "workspaces": list(
                    selectors.workspaces_for_request(request).values_list("pk", flat=True)
                ),
            }
        )


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True)
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = Member
        fields = ["id", "username", "email", "role", "created_at"]
        read_only_fields = ["id", "username", "email", "created_at"]


MEMBER_ROW = {
    "id": "id",
    "username": "user__username",
    "email": "user__email",
    "role": "role",
    "created_at": "created_at",
}


class MemberInviteSerializer(serializers.Serializer):
    user = serializers.CharField(max_length=254, help_text="An email address or a username.")
    role = serializers.ChoiceField(choices=Role.choices, default=Role.USER)


class InvitationSerializer(serializers.ModelSerializer):
    user = serializers.CharField(
        source="invitee", help_text="The email address or username invited."
    )
    invited_by = serializers.CharField(source="invited_by.username", default=None, read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "user", "role", "invited_by", "created_at", "expires_at"]
        read_only_fields = fields


class InvitationSentSerializer(InvitationSerializer):
    detail = serializers.CharField(default="Invitation sent")
    accept_url = serializers.CharField(
        help_text="The link the invitee opens, logged in, to accept (shown once: send it to them)."
    )
    emailed = serializers.BooleanField(
        help_text="Whether the link was also emailed (an email address, and email configured)."
    )

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "detail", "accept_url", "emailed"]


class MemberListView(APIView):
    @extend_schema(responses=MemberSerializer(many=True))
    def get(self, request, workspace_id: int):
        workspace = _workspace(request, workspace_id)
        # As MemberSerializer shows them, read as rows (no instance or serializer per member).
        rows = selectors.rows_of(selectors.members_of(workspace), MEMBER_ROW)
        return Response(rows)

    @extend_schema(request=MemberInviteSerializer, responses={201: InvitationSentSerializer})
    def post(self, request, workspace_id: int):
        """Invite someone by email or username (Master Admins): a pending invitation, the same
        answer whether or not an account has that name; they join when they accept it."""
        workspace = _workspace(request, workspace_id)
        permissions.require_master_admin(request.user, workspace, action="invite members")
        serializer = MemberInviteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation, url, emailed = services.member_invite(
            user=request.user,
            workspace=workspace,
            identifier=serializer.validated_data["user"],
            role=serializer.validated_data["role"],
        )
        invitation.accept_url, invitation.emailed = url, emailed
        return Response(InvitationSentSerializer(invitation).data, status=status.HTTP_201_CREATED)


def _invitations(request, workspace_id: int):
    workspace = _workspace(request, workspace_id)
    permissions.require_master_admin(request.user, workspace, action="see or revoke invitations")
    return Invitation.objects.pending().filter(workspace=workspace).select_related("invited_by")


class InvitationListView(APIView):
    @extend_schema(responses=InvitationSerializer(many=True))
    def get(self, request, workspace_id: int):
        """Pending invitations (Master Admins)."""
        return Response(InvitationSerializer(_invitations(request, workspace_id), many=True).data)


class InvitationDetailView(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request, workspace_id: int, invitation_id: int):
        """Revoke a pending invitation (Master Admins): its link stops working."""
        invitation = get_object_or_404(_invitations(request, workspace_id), pk=invitation_id)
        services.invitation_revoke(user=request.user, invitation=invitation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberDetailView(APIView):
    @extend_schema(request=MemberSerializer, responses=MemberSerializer)
    def patch(self, request, workspace_id: int, member_id: int):
        workspace = _workspace(request, workspace_id)
        member = get_object_or_404(selectors.members_of(workspace), pk=member_id)
        serializer = MemberSerializer(member, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if "role" not in serializer.validated_data:
            raise serializers.ValidationError({"role": ["Give the new role."]})
        member = services.member_role_change(
            user=request.user, member=member, role=serializer.validated_data["role"]
        )
        return Response(MemberSerializer(member).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, workspace_id: int, member_id: int):
        """Remove someone from the workspace (Master Admins); never its last Master Admin."""
        workspace = _workspace(request, workspace_id)
        member = get_object_or_404(selectors.members_of(workspace), pk=member_id)
        services.member_remove(user=request.user, member=member)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiKeySerializer(serializers.ModelSerializer):
    store = serializers.CharField(source="store.shop_domain", read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "label",
            "prefix",
            "store",
            "created_at",
            "last_used_at",
            "revoked_at",
            "is_active",
        ]
        read_only_fields = fields


API_KEY_ROW = {
    **{name: name for name in ("id", "label", "prefix")},
    "store": "store__shop_domain",
    **{name: name for name in ("created_at", "last_used_at", "revoked_at")},
}


class ApiKeyCreateSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=100)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "token"]
        read_only_fields = fields


class ApiKeyListView(APIView):
    @extend_schema(responses=ApiKeySerializer(many=True))
    def get(self, request, store_id: int):
        store = _store(request, store_id)
        permissions.require_setup_change(request.user, store.workspace, action="see API keys")
        # As ApiKeySerializer shows them, read as rows (no instance or serializer per key).
        rows = selectors.rows_of(selectors.api_keys_of(store), API_KEY_ROW)
        for row in rows:
            row["is_active"] = row["revoked_at"] is None  # ApiKey.is_active
        return Response(rows)

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: ApiKeyCreatedSerializer})
    def post(self, request, store_id: int):
        store = _store(request, store_id)
        permissions.require_setup_change(request.user, store.workspace, action="create API keys")
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, token = services.api_key_create(
            user=request.user, store=store, label=serializer.validated_data["label"]
        )
        key.token = token
        return Response(ApiKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(APIView):
    @extend_schema(request=None, responses=ApiKeySerializer)
    def delete(self, request, store_id: int, key_id: int):
        store = _store(request, store_id)
        key = get_object_or_404(selectors.api_keys_of(store), pk=key_id)
        key = services.api_key_revoke(user=request.user, key=key)
        return Response(ApiKeySerializer(key).data)


class StoreConnectSerializer(serializers.Serializer):
    shop = serializers.CharField(max_length=255, help_text="e.g. demo-3.myshopify.com")


class StoreConnectView(APIView):
    """Setup's "Connect a store" (admins): the install link, bound to this workspace by its
    single-use `state` (and to this browser by a signed cookie). Open `authorize_url` in the
    top window; Shopify asks the merchant to approve, then the store joins this workspace."""

    @extend_schema(
        request=StoreConnectSerializer,
        responses=inline_serializer(
            "StoreConnectStarted",
            {"shop": serializers.CharField(), "authorize_url": serializers.URLField()},
        ),
    )
    def post(self, request, workspace_id: int):
        workspace = _workspace(request, workspace_id)
        serializer = StoreConnectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        state = services.store_connect_start(
            user=request.user, workspace=workspace, shop_domain=serializer.validated_data["shop"]
        )
        response = Response({"shop": state.shop_domain, "authorize_url": authorize_url(state)})
        set_state_cookie(response, request, state)
        return response


class CloudinaryConnectionSerializer(serializers.Serializer):
    cloud_name = serializers.CharField(max_length=100)
    api_key = serializers.CharField(max_length=100)
    api_secret = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Write-only; empty or left out keeps the saved secret.",
    )
    api_secret_set = serializers.BooleanField(read_only=True)


def _connection(workspace: Workspace) -> dict:
    return {
        "cloud_name": workspace.cloudinary_cloud_name,
        "api_key": workspace.cloudinary_api_key,
        "api_secret_set": bool(workspace.cloudinary_api_secret),
    }


def _connection_input(request) -> dict:
    serializer = CloudinaryConnectionSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return {"api_secret": "", **serializer.validated_data}


class CloudinaryConnectionView(APIView):
    """The workspace's Cloudinary product environment. Everyone views (never the secret);
    admins change it, and it is saved only once Cloudinary accepts the credentials."""

    @extend_schema(responses=CloudinaryConnectionSerializer)
    def get(self, request, workspace_id: int):
        return Response(_connection(_workspace(request, workspace_id)))

    @extend_schema(request=CloudinaryConnectionSerializer, responses=CloudinaryConnectionSerializer)
    def put(self, request, workspace_id: int):
        workspace = _workspace(request, workspace_id)
        permissions.require_setup_change(
            request.user, workspace, action="change the Cloudinary connection"
        )
        workspace = services.cloudinary_connection_update(
            user=request.user, workspace=workspace, **_connection_input(request)
        )
        return Response(_connection(workspace))


class CloudinaryConnectionTestView(APIView):
    """Test credentials before saving them (admins); an empty secret tests the saved one."""

    @extend_schema(
        request=CloudinaryConnectionSerializer,
        responses=inline_serializer(
            "CloudinaryConnectionCheck",
            {
                "ok": serializers.BooleanField(),
                "problem": serializers.CharField(),
                "message": serializers.CharField(),
            },
        ),
    )
    def post(self, request, workspace_id: int):
        workspace = _workspace(request, workspace_id)
        permissions.require_setup_change(
            request.user, workspace, action="change the Cloudinary connection"
        )
        check = services.cloudinary_connection_test(
            user=request.user, workspace=workspace, **_connection_input(request)
        )
        return Response({"ok": check.ok, "problem": check.problem, "message": check.message})
