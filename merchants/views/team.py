"""PLACEHOLDER: being written."""


def team(request, *args, **kwargs):
    raise NotImplementedError


def member(request, *args, **kwargs):
    raise NotImplementedError


def revoke_invitation(request, *args, **kwargs):
    raise NotImplementedError


def developers(request, *args, **kwargs):
    raise NotImplementedError


def api_key(request, *args, **kwargs):
    raise NotImplementedError


def audit_log(request, *args, **kwargs):
    raise NotImplementedError
