from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from merchants.models import ApiKey, AuditLog, Invitation, Membership, Merchant, User
from merchants.services.audit import Actor
from merchants.services.errors import MerchantError
from merchants.services.organisations import approve_merchant, suspend_merchant


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "email_verified_at", "is_staff", "date_joined"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password", "full_name", "email_verified_at", "preferred_language")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "public_id", "legal_form", "country", "status", "live_ready", "created_at"]
    list_filter = ["status", "legal_form", "country"]
    search_fields = ["name", "public_id", "registration_number", "support_email"]
    # live_ready is computed (Merchant.save, merchants.signals): shown, never edited.
    readonly_fields = ["public_id", "live_ready", "approved_at", "approved_by", "created_at", "updated_at"]
    inlines = [MembershipInline]
    actions = ["approve", "suspend"]

    @admin.action(description="Approve for live mode")
    def approve(self, request, queryset):
        approved = 0
        for merchant in queryset:
            try:
                approve_merchant(merchant, request.user, Actor.from_request(request))
                approved += 1
            except MerchantError as exc:
                self.message_user(request, str(exc), messages.ERROR)
        if approved:
            self.message_user(request, f"{approved} merchant(s) approved.", messages.SUCCESS)

    @admin.action(description="Suspend")
    def suspend(self, request, queryset):
        for merchant in queryset:
            suspend_merchant(merchant, request.user)
        self.message_user(request, "Suspended.", messages.SUCCESS)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "merchant", "kind", "is_live", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["kind", "is_live"]
    search_fields = ["prefix", "merchant__name"]
    readonly_fields = [f.name for f in ApiKey._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "merchant", "role", "created_at", "accepted_at", "revoked_at"]
    exclude = ["token_hash"]


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "merchant", "actor_label", "action", "object_type", "object_id", "ip_address"]
    list_filter = ["action"]
    search_fields = ["merchant__name", "actor_label", "object_id"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
