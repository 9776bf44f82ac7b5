"""The card vault's rows: encrypted card numbers (see payments.vault)."""

from __future__ import annotations

from django.db import models

from payplug.ids import id_factory


class VaultEntry(models.Model):
    """One card number, encrypted with its own data key (AES-256-GCM), itself wrapped by the key ring."""

    token = models.CharField(max_length=40, unique=True, default=id_factory("vault"))
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    key_version = models.PositiveIntegerField()
    wrapped_key = models.BinaryField()
    ciphertext = models.BinaryField()
    fingerprint = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rewrapped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["key_version"])]

    def __str__(self):
        return self.token
