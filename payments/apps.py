from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        from merchants import home, roles
        from notifications import registry

        # Importing the task modules registers the Celery tasks in every process, eager mode included.
        from payments import installments, receipts, services, subscriptions, tasks
        from payments.dashboard import home as payments_home
        from payments.dashboard import installments as installments_dashboard
        from payments.dashboard import subscriptions as subscriptions_dashboard
        from payments.metrics import refresh_payment_gauges
        from payplug.metrics import on_scrape

        on_scrape(refresh_payment_gauges)
        # IPN attempts report their status code onto the payment; receipts follow payment.paid.
        registry.on_ipn_result(services.record_ipn_response)
        registry.on_ipn_result(installments.record_ipn_response)
        registry.on_ipn_result(subscriptions.record_ipn_response)
        registry.subscribe("payment.paid", receipts.send_receipt.name)
        # Test mode: the sandbox dispute card's chargeback follows payment.paid (payments.tasks).
        registry.subscribe("payment.paid", tasks.sandbox_chargeback.name)
        # Installment plans: each installment follows its payment's outcome (payments.installments).
        registry.subscribe("payment.paid", tasks.installment_payment_paid.name)
        registry.subscribe("payment.failed", tasks.installment_payment_failed.name)
        # Subscriptions likewise (payments.subscriptions); a card check saves the card, then is voided.
        registry.subscribe("payment.paid", tasks.subscription_payment_paid.name)
        registry.subscribe("payment.failed", tasks.subscription_payment_failed.name)
        registry.subscribe("payment.capturable", tasks.subscription_card_checked.name)
        # The dashboard home (merchants.home): figures, balance, what needs attention, the sidebar count.
        home.register_panel(
            "payments",
            "dashboard/home_payments.html",
            payments_home.payments_panel,
            permission=roles.VIEW_PAYMENTS,
            order=10,
        )
        home.register_panel(
            "balance",
            "dashboard/home_balance.html",
            payments_home.balance_panel,
            permission=roles.VIEW_BALANCE,
            order=20,
        )
        home.register_attention("disputes", payments_home.dispute_items, permission=roles.VIEW_PAYMENTS, order=10)
        home.register_attention("stuck_payments", payments_home.stuck_items, permission=roles.VIEW_PAYMENTS, order=40)
        home.register_attention(
            "failing_installment_plans",
            installments_dashboard.attention_items,
            permission=roles.VIEW_PAYMENTS,
            order=30,
        )
        home.register_attention(
            "past_due_subscriptions",
            subscriptions_dashboard.attention_items,
            permission=roles.VIEW_PAYMENTS,
            order=35,
        )
        home.register_counter("open_disputes", payments_home.open_disputes, permission=roles.VIEW_PAYMENTS)
