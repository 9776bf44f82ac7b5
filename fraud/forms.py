"""Dashboard forms of the fraud app."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fraud import rules as rule_language
from fraud.models import FraudSettings, ListEntry
from fraud.services.lists import normalise_list_value


class RuleForm(forms.Form):
    source = forms.CharField(
        label=_("Rule"),
        max_length=rule_language.MAX_LENGTH,
        help_text=_(
            "Amounts are in euros: amount > 60 matches payments above €60.00. "
            "For example: review if card_country != ip_country and amount > 200"
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "mono"}),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)

    def clean_source(self):
        source = self.cleaned_data["source"].strip()
        try:
            rule = rule_language.parse(source)
        except rule_language.RuleError as error:
            raise forms.ValidationError(str(error)) from None
        problems = rule_language.never_true(rule)  # a threshold no payment can reach: say why
        if problems:
            raise forms.ValidationError([str(problem) for problem in problems])
        return source


class ListEntryForm(forms.Form):
    list = forms.ChoiceField(label=_("List"), choices=ListEntry.List.choices)
    kind = forms.ChoiceField(label=_("Type"), choices=ListEntry.Kind.choices)
    value = forms.CharField(label=_("Value"), max_length=255)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if "kind" in data and "value" in data:
            try:
                data["value"] = normalise_list_value(data["kind"], data["value"])
            except ValueError as error:
                self.add_error("value", _(str(error)))
        return data


class SettingsForm(forms.ModelForm):
    class Meta:
        model = FraudSettings
        fields = ["unreviewed_action", "review_hours"]
        widgets = {"unreviewed_action": forms.RadioSelect}
