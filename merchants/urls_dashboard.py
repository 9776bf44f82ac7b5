"""Dashboard routes of the merchants app (namespace `dashboard`)."""

from django.urls import path

from merchants.views import accounts, shell, team

urlpatterns = [
    path("", shell.home, name="home"),
    path("switch-organisation/", shell.switch_org, name="switch_org"),
    path("switch-mode/", shell.switch_mode, name="switch_mode"),
    path("settings/", accounts.settings_view, name="settings"),
    path("team/", team.team, name="team"),
    path("team/members/<int:membership_id>/", team.member, name="team_member"),
    path("team/invitations/<int:invitation_id>/revoke/", team.revoke_invitation, name="team_invitation_revoke"),
    path("developers/", team.developers, name="developers"),
    path("developers/keys/<int:key_id>/", team.api_key, name="api_key"),
    path("audit/", team.audit_log, name="audit"),
]
