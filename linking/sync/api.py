"""HTTP API of sync rules: list and create (from a saved plan), pause, resume, reconcile now,
delete, and the history of a rule (its sync runs and their link runs). Admins manage rules;
every member sees them."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from assetlink_project.api_input import validated_body
from linking import selectors as plan_selectors
from linking.sync import selectors, services
from stores import selectors as store_selectors


class SyncRuleInputSerializer(serializers.Serializer):
    plan = serializers.IntegerField(min_value=1, help_text="The saved plan the rule re-runs.")
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    reconcile_hour = serializers.IntegerField(
        required=False, min_value=0, max_value=23, help_text="Nightly reconciliation, UTC hour."
    )


_RULE_FIELDS = {
    "id": serializers.IntegerField(),
    "workspace": serializers.IntegerField(),
    "name": serializers.CharField(),
    "plan": serializers.IntegerField(),
    "expression": serializers.CharField(),
    "stores": serializers.ListField(child=serializers.CharField()),
    "link_mode": serializers.CharField(),
    "paused": serializers.BooleanField(),
    "reconcile_hour": serializers.IntegerField(),
    "next_reconcile_at": serializers.DateTimeField(allow_null=True),
    "indexed_at": serializers.DateTimeField(allow_null=True),
    "last_change_at": serializers.DateTimeField(allow_null=True),
    "pending_changes": serializers.IntegerField(),
    "notification_url": serializers.CharField(),
    "created_at": serializers.DateTimeField(),
}
SyncRuleSerializer = inline_serializer("SyncRule", _RULE_FIELDS)

_SYNC_RUN_FIELDS = {
    "id": serializers.IntegerField(),
    "trigger": serializers.ChoiceField(["notification", "reconcile"]),
    "status": serializers.ChoiceField(["planning", "started", "nothing", "failed"]),
    "created_at": serializers.DateTimeField(),
    "finished_at": serializers.DateTimeField(allow_null=True),
    "notifications": serializers.IntegerField(),
    "changed_asset_ids": serializers.ListField(child=serializers.CharField()),
    "deleted_asset_ids": serializers.ListField(child=serializers.CharField()),
    "groups": serializers.ListField(child=serializers.CharField()),
    "plan": serializers.IntegerField(allow_null=True),
    "drift": serializers.ListField(child=serializers.DictField()),
    "message": serializers.CharField(),
    "runs": serializers.ListField(child=serializers.DictField()),
}


def rule_json(rule, scope) -> dict:
    plan = rule.plan
    return {
        "id": rule.pk,
        "workspace": rule.workspace_id,
        "name": rule.name,
        "plan": plan.pk,
        "expression": plan.expression,
        "stores": [s.shop_domain for s in plan.stores.all() if s in scope],
        "link_mode": plan.link_mode,
        "paused": rule.paused,
        "reconcile_hour": rule.reconcile_hour,
        "next_reconcile_at": rule.next_reconcile_at,
        "indexed_at": rule.indexed_at,
        "last_change_at": rule.last_change_at,
        "pending_changes": rule.changes.filter(sync_run=None).count(),
        "notification_url": selectors.notification_url(rule.workspace_id),
        "created_at": rule.created_at,
    }


def _rule(request, rule_id: int):
    return get_object_or_404(selectors.rules_for_request(request), pk=rule_id)


def _scope(request) -> list:
    return list(store_selectors.stores_for_request(request))


class SyncRuleListView(APIView):
    @extend_schema(responses=inline_serializer("SyncRules", _RULE_FIELDS, many=True))
    def get(self, request, workspace_id: int):
        workspace = get_object_or_404(
            store_selectors.workspaces_for_request(request), pk=workspace_id
        )
        scope = _scope(request)
        rules = selectors.rules_for_request(request).filter(workspace=workspace)
        return Response([rule_json(r, scope) for r in rules.prefetch_related("plan__stores")])

    @extend_schema(
        request=SyncRuleInputSerializer,
        responses={201: SyncRuleSerializer},
        description="Turn a saved plan into a sync rule (admins). The rule starts with a "
        "reconciliation (the whole plan runs once); then every Cloudinary notification sent "
        "to `notification_url` re-runs only the groups it touched.",
    )
    def post(self, request, workspace_id: int):
        workspace = get_object_or_404(
            store_selectors.workspaces_for_request(request), pk=workspace_id
        )
        data = validated_body(request, SyncRuleInputSerializer, noun="sync rule")
        plan = get_object_or_404(
            plan_selectors.plans_for_request(request).filter(workspace=workspace), pk=data["plan"]
        )
        rule = services.rule_create(
            user=request.user,
            plan=plan,
            name=data.get("name", ""),
            reconcile_hour=data.get("reconcile_hour", 3),
            scope=store_selectors.request_scope(request),
        )
        return Response(rule_json(rule, _scope(request)), status=status.HTTP_201_CREATED)


class SyncRuleDetailView(APIView):
    @extend_schema(responses=SyncRuleSerializer)
    def get(self, request, rule_id: int):
        return Response(rule_json(_rule(request, rule_id), _scope(request)))

    @extend_schema(responses={204: None})
    def delete(self, request, rule_id: int):
        services.rule_delete(
            user=request.user,
            rule=_rule(request, rule_id),
            scope=store_selectors.request_scope(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SyncRulePauseView(APIView):
    paused = True

    @extend_schema(request=None, responses=SyncRuleSerializer)
    def post(self, request, rule_id: int):
        rule = services.rule_set_paused(
            user=request.user,
            rule=_rule(request, rule_id),
            paused=self.paused,
            scope=store_selectors.request_scope(request),
        )
        return Response(rule_json(rule, _scope(request)))


class SyncRuleResumeView(SyncRulePauseView):
    paused = False


class SyncRuleReconcileView(APIView):
    @extend_schema(
        request=None,
        responses={202: SyncRuleSerializer},
        description="Queue a reconciliation now: the whole plan runs; drift is repaired and "
        "listed in the rule's history.",
    )
    def post(self, request, rule_id: int):
        rule = services.rule_reconcile_now(
            user=request.user,
            rule=_rule(request, rule_id),
            scope=store_selectors.request_scope(request),
        )
        return Response(rule_json(rule, _scope(request)), status=status.HTTP_202_ACCEPTED)


class SyncRuleHistoryView(APIView):
    @extend_schema(responses=inline_serializer("SyncRuns", _SYNC_RUN_FIELDS, many=True))
    def get(self, request, rule_id: int):
        scope = _scope(request)
        return Response(selectors.history(_rule(request, rule_id), scope))
