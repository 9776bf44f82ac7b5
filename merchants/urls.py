"""Account routes (sign-up, login, two-factor, password reset, onboarding, invitations)."""

from django.urls import path

from merchants.views import accounts

urlpatterns = [
    path("signup/", accounts.signup, name="signup"),
    path("verify-email/sent/", accounts.verify_email_sent, name="verify_email_sent"),
    path("verify-email/<str:token>/", accounts.verify_email, name="verify_email"),
    path("login/", accounts.login_view, name="login"),
    path("login/otp/", accounts.login_otp, name="login_otp"),
    path("logout/", accounts.logout_view, name="logout"),
    path("password-reset/", accounts.password_reset, name="password_reset"),
    path("password-reset/sent/", accounts.password_reset_done, name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", accounts.password_reset_confirm, name="password_reset_confirm"),
    path("password-reset/complete/", accounts.password_reset_complete, name="password_reset_complete"),
    path("account/security/", accounts.account_security, name="account_security"),
    path("onboarding/organisation/", accounts.onboarding_organisation, name="onboarding_organisation"),
    path("invitations/<str:token>/", accounts.accept_invitation, name="accept_invitation"),
]
