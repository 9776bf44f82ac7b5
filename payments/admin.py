"""Platform staff: fee schedules, payouts and their SEPA files, disputes, the ledger (read only)."""

from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from payments import admin_connectors  # noqa: F401  registers the connector and route admins
from payments.errors import PaymentError
from payments.models import (
    AccountingReport,
    Dispute,
    LedgerEntry,
    LedgerTransaction,
    MerchantAccountSettings,
    Payout,
    PayoutBatch,
)
from payments.money import disputes, payouts


@admin.register(MerchantAccountSettings)
class MerchantAccountSettingsAdmin(admin.ModelAdmin):
    list_display = (
        "merchant",
        "fee_percent_bps",
        "fee_fixed",
        "refund_fee",
        "dispute_fee",
        "settlement_delay_days",
        "payout_minimum",
        "reserve_amount",
        "payouts_paused",
    )
    search_fields = ("merchant__name", "merchant__public_id")
    raw_id_fields = ("merchant",)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "is_live", "execution_date", "payout_count", "total", "created_at", "download")
    list_filter = ("is_live", "execution_date")
    exclude = ("xml",)

    def get_urls(self):
        return [
            path("<int:batch_id>/download/", self.admin_site.admin_view(self.download_view), name="payments_batch_xml"),
            *super().get_urls(),
        ]

    @admin.display(description="pain.001 file")
    def download(self, batch):
        return format_html('<a href="{}">{}</a>', reverse("admin:payments_batch_xml", args=[batch.pk]), batch.file_name)

    def download_view(self, request, batch_id):
        batch = get_object_or_404(PayoutBatch, pk=batch_id)
        response = HttpResponse(batch.xml, content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{batch.file_name}"'
        return response


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "merchant", "is_live", "payout_date", "amount", "status", "batch", "failure_reason")
    list_filter = ("status", "is_live", "payout_date")
    search_fields = ("public_id", "merchant__name")
    actions = ("mark_paid", "mark_failed")

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser or request.user.has_perm("payments.change_payout")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.action(description="Mark as paid (the bank confirmed)")
    def mark_paid(self, request, queryset):
        for payout in queryset:
            try:
                payouts.mark_paid(payout)
            except payouts.PayoutError as exc:
                self.message_user(request, exc.message, messages.ERROR)

    @admin.action(description="Mark as failed (rejected by the bank): money back to the balance")
    def mark_failed(self, request, queryset):
        for payout in queryset:
            try:
                payouts.mark_failed(payout, f"rejected by the bank (staff {request.user.email})")
            except payouts.PayoutError as exc:
                self.message_user(request, exc.message, messages.ERROR)


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "merchant", "is_live", "payment", "amount", "reason", "status", "evidence_due_by")
    list_filter = ("status", "is_live", "reason")
    search_fields = ("public_id", "payment__public_id")
    actions = ("mark_won", "mark_lost")

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser or request.user.has_perm("payments.change_dispute")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def _close(self, request, queryset, won):
        for dispute in queryset:
            try:
                disputes.close(dispute, won=won)
            except PaymentError as exc:
                self.message_user(request, f"{dispute.public_id}: {exc.message}", messages.ERROR)

    @admin.action(description="Scheme verdict: won (money back to the merchant)")
    def mark_won(self, request, queryset):
        self._close(request, queryset, True)

    @admin.action(description="Scheme verdict: lost (final)")
    def mark_lost(self, request, queryset):
        self._close(request, queryset, False)


class LedgerEntryInline(admin.TabularInline):
    model = LedgerEntry
    extra = 0
    can_delete = False
    fields = ("account", "amount", "available_on")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "kind", "merchant", "is_live", "gross", "fee", "net", "created_at")
    list_filter = ("kind", "is_live")
    search_fields = ("public_id", "unique_key")
    inlines = (LedgerEntryInline,)
    show_full_result_count = False


@admin.register(AccountingReport)
class AccountingReportAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "merchant", "is_live", "start_date", "end_date", "status", "row_count", "created_at")
    list_filter = ("status", "is_live")
