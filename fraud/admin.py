from django.contrib import admin

from fraud.models import Decision, FraudSettings, Label, ListEntry, ModelVersion, Rule


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ("payment", "merchant", "is_live", "score", "outcome", "rule", "review_outcome", "created_at")
    list_filter = ("outcome", "is_live", "review_outcome")
    raw_id_fields = ("payment", "merchant", "reviewed_by")
    readonly_fields = ("reasons", "features")


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ("payment", "merchant", "source", "is_fraud", "fraud_reported_at")
    list_filter = ("source", "is_fraud")
    raw_id_fields = ("payment", "merchant", "created_by")


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ("merchant", "is_live", "position", "source", "is_enabled")
    raw_id_fields = ("merchant",)


@admin.register(ListEntry)
class ListEntryAdmin(admin.ModelAdmin):
    list_display = ("merchant", "is_live", "list", "kind", "value")
    list_filter = ("list", "kind")
    raw_id_fields = ("merchant", "created_by")


@admin.register(FraudSettings)
class FraudSettingsAdmin(admin.ModelAdmin):
    list_display = ("merchant", "unreviewed_action", "review_hours")
    raw_id_fields = ("merchant",)


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active", "created_at", "activated_at")
    exclude = ("artifact",)
