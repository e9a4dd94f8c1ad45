"""HTTP API for workspaces and Setup (thin: validation in serializers, rules in services)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from stores import permissions, services
from stores.models import Workspace, WorkspaceSettings
from stores.selectors import workspaces_for

READ_ONLY_SETUP = ("id", "workspace", "updated_at")


class SetupSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkspaceSettings
        exclude = ["id", "workspace"]
        read_only_fields = ["updated_at"]


class WorkspaceSerializer(serializers.ModelSerializer):
    can_change_setup = serializers.SerializerMethodField()
    stores = serializers.SlugRelatedField(many=True, read_only=True, slug_field="shop_domain")

    class Meta:
        model = Workspace
        fields = ["id", "name", "cloudinary_cloud_name", "stores", "can_change_setup"]

    def get_can_change_setup(self, obj) -> bool:
        return permissions.can_change_setup(self.context["request"].user, obj)


def _workspace(request, workspace_id: int) -> Workspace:
    # 404 for workspaces the caller is not a member of: they must not learn they exist.
    return get_object_or_404(workspaces_for(request.user), pk=workspace_id)


class WorkspaceListView(APIView):
    @extend_schema(responses=WorkspaceSerializer(many=True))
    def get(self, request):
        data = WorkspaceSerializer(
            workspaces_for(request.user), many=True, context={"request": request}
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
