"""PLACEHOLDER: being written."""


def signup(request, *args, **kwargs):
    raise NotImplementedError


def verify_email_sent(request, *args, **kwargs):
    raise NotImplementedError


def verify_email(request, *args, **kwargs):
    raise NotImplementedError


def login_view(request, *args, **kwargs):
    raise NotImplementedError


def login_otp(request, *args, **kwargs):
    raise NotImplementedError


def logout_view(request, *args, **kwargs):
    raise NotImplementedError


def password_reset(request, *args, **kwargs):
    raise NotImplementedError


def password_reset_done(request, *args, **kwargs):
    raise NotImplementedError


def password_reset_confirm(request, *args, **kwargs):
    raise NotImplementedError


def password_reset_complete(request, *args, **kwargs):
    raise NotImplementedError


def account_security(request, *args, **kwargs):
    raise NotImplementedError


def onboarding_organisation(request, *args, **kwargs):
    raise NotImplementedError


def accept_invitation(request, *args, **kwargs):
    raise NotImplementedError


def settings_view(request, *args, **kwargs):
    raise NotImplementedError
