from merchants import roles


def dashboard(request):
    context = getattr(request, "dashboard", None)
    if context is None or not request.user.is_authenticated:
        return {}
    return {"dashboard": context, "perm": _Permissions(context)}


class _Permissions:
    """`{% if perm.refund %}` in templates: the current role's permissions by short name."""

    def __init__(self, context):
        self._context = context

    def __getattr__(self, name):
        permission = getattr(roles, name.upper(), None)
        if not isinstance(permission, str):
            raise AttributeError(name)
        return self._context.can(permission)
