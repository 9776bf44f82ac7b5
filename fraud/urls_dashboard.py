"""Dashboard routes of the fraud app (namespace `dashboard`)."""

from django.urls import path

from fraud import views

urlpatterns = [
    path("fraud/", views.overview, name="fraud"),
    path("fraud/reviews/", views.reviews, name="fraud_reviews"),
    path("fraud/reviews/<str:payment_id>/", views.review, name="fraud_review"),
    path("fraud/payments/<str:payment_id>/report/", views.report, name="fraud_report"),
    path("fraud/rules/", views.rules, name="fraud_rules"),
    path("fraud/models/", views.models_view, name="fraud_models"),
]
