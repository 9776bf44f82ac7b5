"""The organisation settings page: profile validation per country, branding, review, roles."""

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from merchants import roles
from merchants.middleware import SESSION_MERCHANT
from merchants.models import AuditLog, Membership, Merchant
from tests import factories
from tests.csp import assert_no_inline_script_or_style

pytestmark = pytest.mark.django_db

URL = "/dashboard/settings/"

PROFILE = {
    "action": "profile",
    "name": "Alice Shop",
    "legal_form": "company",
    "country": "FR",
    "registration_number": "732 829 320",
    "vat_number": "FR 40 303265045",
    "iban": "FR14 2004 1010 0505 0001 3M02 606",
    "website": "https://shop.example.org",
    "support_email": "Support@Example.org",
    "statement_descriptor": "ALICE SHOP",
}

# One valid organisation per country: (registration number, VAT number) for a company.
COUNTRIES = {
    "FR": ("732829320", "FR40303265045"),
    "IT": ("00743110157", "IT00743110157"),
    "ES": ("B58378431", "ESB58378431"),
    "BE": ("0403019261", "BE0403019261"),
    "DE": ("Berlin HRB 12345", "DE136695976"),
}


def profile(**changes):
    return {**PROFILE, **changes}


def snapshot(merchant):
    merchant.refresh_from_db()
    return {field: getattr(merchant, field) for field in (*PROFILE.keys() - {"action"}, "bic", "status")}


def field_errors(response, field):
    form = response.context["profile_form"]
    return form.errors.get(field, [])


# --- saving a valid profile --------------------------------------------------------------------


def test_a_valid_profile_is_saved_normalised(alice_client, merchant_a):
    response = alice_client.post(URL, profile())

    assert response.status_code == 302
    merchant_a.refresh_from_db()
    assert merchant_a.registration_number == "732829320"
    assert merchant_a.vat_number == "FR40303265045"
    assert merchant_a.iban == "FR1420041010050500013M02606"
    assert merchant_a.bic == "PSSTFRPP"
    assert merchant_a.support_email == "support@example.org"
    assert merchant_a.profile_complete


def test_saving_records_an_audit_entry(alice_client, alice, merchant_a):
    alice_client.post(URL, profile())

    entry = AuditLog.objects.get(action="settings.profile_updated")
    assert entry.merchant == merchant_a
    assert entry.actor == alice
    assert "iban" in entry.data["fields"]


@pytest.mark.parametrize("country", COUNTRIES)
def test_a_company_of_each_country_can_be_saved(alice_client, merchant_a, country):
    registration, vat = COUNTRIES[country]

    response = alice_client.post(URL, profile(country=country, registration_number=registration, vat_number=vat))

    assert response.status_code == 302, response.context["profile_form"].errors
    merchant_a.refresh_from_db()
    assert merchant_a.country == country
    assert merchant_a.vat_number == vat


# --- registration numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "country, entered, stored",
    [
        ("FR", "732 829 320", "732829320"),  # SIREN
        ("FR", "732 829 320 00074", "73282932000074"),  # SIRET
        ("IT", "00743110157", "00743110157"),  # partita IVA
        ("IT", "RCCMNL83S18D969H", "RCCMNL83S18D969H"),  # codice fiscale of a person
        ("ES", "B-58378431", "B58378431"),  # CIF
        ("ES", "X2482300W", "X2482300W"),  # NIE
        ("ES", "54362315-K", "54362315K"),  # DNI
        ("BE", "0403.019.261", "0403019261"),  # enterprise number
        ("DE", "Berlin HRB 12345", "Berlin (Charlottenburg) HRB 12345"),  # Handelsregisternummer
        ("DE", "181/815/08155", "18181508155"),  # Steuernummer
    ],
)
def test_valid_registration_numbers_are_accepted(alice_client, merchant_a, country, entered, stored):
    response = alice_client.post(
        URL, profile(country=country, registration_number=entered, legal_form="association", vat_number="")
    )

    assert response.status_code == 302, response.context["profile_form"].errors
    merchant_a.refresh_from_db()
    assert merchant_a.registration_number == stored


@pytest.mark.parametrize(
    "country, entered",
    [
        ("FR", "732829321"),
        ("FR", "7328293200007"),
        ("IT", "00743110158"),
        ("IT", "RCCMNL83S18D969X"),
        ("ES", "B58378432"),
        ("ES", "X2482300A"),
        ("BE", "0403019262"),
        ("DE", "HRB 12345"),
        ("DE", "Atlantis HRB 12345"),
        ("DE", "123"),
    ],
)
def test_invalid_registration_numbers_are_refused(alice_client, merchant_a, country, entered):
    before = snapshot(merchant_a)

    response = alice_client.post(
        URL, profile(country=country, registration_number=entered, legal_form="association", vat_number="")
    )

    assert response.status_code == 200
    assert field_errors(response, "registration_number")
    assert 'id="id_registration_number_error"' in response.content.decode()
    assert snapshot(merchant_a) == before
    assert not AuditLog.objects.filter(action="settings.profile_updated").exists()


def test_a_number_valid_elsewhere_is_refused_for_the_chosen_country(alice_client, merchant_a):
    before = snapshot(merchant_a)

    response = alice_client.post(URL, profile(country="IT", registration_number="732829320", vat_number=""))

    assert field_errors(response, "registration_number")
    assert snapshot(merchant_a) == before


def test_an_unsupported_country_is_refused(alice_client, merchant_a):
    before = snapshot(merchant_a)

    response = alice_client.post(URL, profile(country="US"))

    assert field_errors(response, "country")
    assert snapshot(merchant_a) == before


# --- VAT ------------------------------------------------------------------------------------------


def test_a_vat_number_without_prefix_gets_the_country_prefix(alice_client, merchant_a):
    alice_client.post(URL, profile(vat_number="40303265045"))

    merchant_a.refresh_from_db()
    assert merchant_a.vat_number == "FR40303265045"


@pytest.mark.parametrize(
    "vat, message",
    [
        ("FR40303265046", "Enter a valid VAT number."),
        ("DE136695976", "must start with FR"),
        ("XX123", "must start with FR"),
    ],
)
def test_an_invalid_vat_number_is_refused(alice_client, merchant_a, vat, message):
    before = snapshot(merchant_a)

    response = alice_client.post(URL, profile(vat_number=vat))

    assert any(message in error for error in field_errors(response, "vat_number"))
    assert snapshot(merchant_a) == before


def test_a_company_needs_a_vat_number(alice_client, merchant_a):
    before = snapshot(merchant_a)

    response = alice_client.post(URL, profile(vat_number=""))

    assert field_errors(response, "vat_number") == ["A company needs a VAT number."]
    assert snapshot(merchant_a) == before


@pytest.mark.parametrize("legal_form", ["sole_trader", "association"])
def test_sole_traders_and_associations_may_have_no_vat_number(alice_client, merchant_a, legal_form):
    response = alice_client.post(URL, profile(legal_form=legal_form, vat_number=""))

    assert response.status_code == 302
    merchant_a.refresh_from_db()
    assert merchant_a.vat_number == ""
    assert merchant_a.profile_complete


# --- IBAN -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban, compact, bic",
    [
        ("it60 x054 2811 1010 0000 0123 456", "IT60X0542811101000000123456", "BLOPIT22"),
        ("DE89370400440532013000", "DE89370400440532013000", "COBADEFFXXX"),
        ("BE68 5390 0754 7034", "BE68539007547034", ""),
    ],
)
def test_an_iban_is_stored_compact_with_its_bic(alice_client, merchant_a, iban, compact, bic):
    alice_client.post(URL, profile(iban=iban))

    merchant_a.refresh_from_db()
    assert merchant_a.iban == compact
    assert merchant_a.bic == bic


@pytest.mark.parametrize(
    "iban, message",
    [
        ("FR1420041010050500013M02607", "Enter a valid IBAN."),
        ("FR14200410100505", "Enter a valid IBAN."),
        ("not an iban", "Enter a valid IBAN."),
        ("BR1800360305000010009795493C1", "SEPA"),
    ],
)
def test_an_invalid_iban_is_refused(alice_client, merchant_a, iban, message):
    before = snapshot(merchant_a)

    response = alice_client.post(URL, profile(iban=iban))

    assert any(message in error for error in field_errors(response, "iban"))
    assert snapshot(merchant_a) == before


# --- statement descriptor, website ---------------------------------------------------------------------


@pytest.mark.parametrize("descriptor", ["ALICE", "Alice Shop-42.fr", "A" * 22, "  ALICE   SHOP  "])
def test_valid_statement_descriptors_are_accepted(alice_client, merchant_a, descriptor):
    response = alice_client.post(URL, profile(statement_descriptor=descriptor))

    assert response.status_code == 302
    merchant_a.refresh_from_db()
    assert merchant_a.statement_descriptor == " ".join(descriptor.split())


@pytest.mark.parametrize(
    "descriptor, message",
    [
        ("SHOP", "between 5 and 22"),
        ("A" * 23, "between 5 and 22"),
        ("CAFÉ LYON", "Latin letters without accents"),
        ("SHOP*ONE", "Latin letters without accents"),
        ("12345 678", "at least one letter"),
    ],
)
def test_invalid_statement_descriptors_are_refused(alice_client, merchant_a, descriptor, message):
    before = snapshot(merchant_a)

    response = alice_client.post(URL, profile(statement_descriptor=descriptor))

    assert any(message in error for error in field_errors(response, "statement_descriptor"))
    assert snapshot(merchant_a) == before


def test_the_website_must_use_https(alice_client, merchant_a):
    before = snapshot(merchant_a)

    response = alice_client.post(URL, profile(website="http://shop.example.org"))

    assert field_errors(response, "website")
    assert snapshot(merchant_a) == before


def test_a_website_without_scheme_is_taken_as_https(alice_client, merchant_a):
    alice_client.post(URL, profile(website="shop.example.org"))

    merchant_a.refresh_from_db()
    assert merchant_a.website == "https://shop.example.org"


def test_every_error_is_shown_next_to_its_field_and_nothing_is_saved(alice_client, merchant_a):
    before = snapshot(merchant_a)
    bad = {
        "action": "profile",
        "name": "",
        "legal_form": "plc",
        "country": "FR",
        "registration_number": "1",
        "iban": "x",
        "website": "ftp://x",
        "support_email": "nope",
        "statement_descriptor": "!",
    }

    response = alice_client.post(URL, bad)

    content = response.content.decode()
    for field in (
        "name",
        "legal_form",
        "registration_number",
        "iban",
        "website",
        "support_email",
        "statement_descriptor",
    ):
        assert f'id="id_{field}_error"' in content, field
    assert snapshot(merchant_a) == before


def test_the_fields_have_autocomplete_attributes(alice_client):
    content = alice_client.get(URL).content.decode()

    assert 'autocomplete="organization"' in content
    assert 'autocomplete="country"' in content
    assert 'autocomplete="url"' in content
    assert 'autocomplete="email"' in content


def test_the_page_has_no_inline_script_or_style(alice_client):
    content = alice_client.get(URL).content.decode()

    assert_no_inline_script_or_style(content)


# --- live-mode checklist and review ------------------------------------------------------------------


def test_the_page_shows_what_is_missing_for_live_mode(alice_client):
    content = alice_client.get(URL).content.decode()

    assert "payout IBAN" in content
    assert "alice@example.org" in content  # owner without two-factor
    assert "Submit for review" in content


def test_submitting_an_incomplete_profile_is_refused(alice_client, merchant_a):
    response = alice_client.post(URL, {"action": "submit"}, follow=True)

    merchant_a.refresh_from_db()
    assert merchant_a.status == Merchant.Status.ONBOARDING
    assert "Complete the profile before submitting it" in response.content.decode()
    assert not AuditLog.objects.filter(action="merchant.submitted_for_review").exists()


def test_a_complete_profile_can_be_submitted_for_review(alice_client, merchant_a):
    alice_client.post(URL, profile())

    alice_client.post(URL, {"action": "submit"})

    merchant_a.refresh_from_db()
    assert merchant_a.status == Merchant.Status.PENDING_REVIEW
    assert AuditLog.objects.filter(merchant=merchant_a, action="merchant.submitted_for_review").exists()


# --- branding ---------------------------------------------------------------------------------------


def image_file(fmt="PNG", size=(64, 64), name="logo.png", noise=False):
    buffer = io.BytesIO()
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, "#1f5fbf")
    image.save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def test_branding_with_a_png_logo_is_saved(alice_client, merchant_a, media):
    response = alice_client.post(
        URL, {"action": "branding", "brand_name": "Alice", "brand_color": "#AA3300", "logo": image_file()}
    )

    assert response.status_code == 302
    merchant_a.refresh_from_db()
    assert merchant_a.brand_name == "Alice"
    assert merchant_a.brand_color == "#aa3300"
    assert merchant_a.logo.name.startswith("logos/") and merchant_a.logo.name.endswith(".png")
    assert "logo" not in merchant_a.logo.name.removeprefix("logos/")  # the uploader's name is not kept


def test_a_jpeg_logo_is_accepted(alice_client, merchant_a, media):
    alice_client.post(URL, {"action": "branding", "brand_color": "#1f5fbf", "logo": image_file("JPEG", name="x.jpg")})

    merchant_a.refresh_from_db()
    assert merchant_a.logo.name.endswith(".jpg")


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(lambda: image_file("GIF", name="logo.gif"), id="gif"),
        pytest.param(
            lambda: SimpleUploadedFile("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
            id="svg",
        ),
        pytest.param(lambda: image_file(size=(600, 600), noise=True), id="over-512-kb"),
    ],
)
def test_other_logos_are_refused(alice_client, merchant_a, media, upload):
    before = (merchant_a.logo.name, merchant_a.brand_color)

    response = alice_client.post(URL, {"action": "branding", "brand_color": "#000000", "logo": upload()})

    assert response.context["branding_form"].errors["logo"]
    merchant_a.refresh_from_db()
    assert (merchant_a.logo.name, merchant_a.brand_color) == before


@pytest.mark.parametrize("colour", ["red", "#12345", "#12345g", "1f5fbf"])
def test_a_colour_must_be_rrggbb(alice_client, merchant_a, colour):
    response = alice_client.post(URL, {"action": "branding", "brand_color": colour})

    assert response.context["branding_form"].errors["brand_color"]
    merchant_a.refresh_from_db()
    assert merchant_a.brand_color == "#1f5fbf"


# --- roles and tenants --------------------------------------------------------------------------------


def test_a_role_without_the_settings_permission_gets_403(client, merchant_a):
    accountant = factories.member(merchant_a, "acc@example.org", Membership.Role.ACCOUNTANT)
    client.force_login(accountant)
    before = snapshot(merchant_a)

    assert client.get(URL).status_code == 403
    assert client.post(URL, profile(name="Hijacked")).status_code == 403
    assert snapshot(merchant_a) == before


def test_a_read_only_role_sees_the_settings_but_cannot_change_them(client, merchant_a, monkeypatch):
    monkeypatch.setitem(
        roles.PERMISSIONS, Membership.Role.SUPPORT, roles.PERMISSIONS[Membership.Role.SUPPORT] | {roles.VIEW_SETTINGS}
    )
    support = factories.member(merchant_a, "support@example.org", Membership.Role.SUPPORT)
    client.force_login(support)
    before = snapshot(merchant_a)

    page = client.get(URL)
    refused = client.post(URL, profile(name="Hijacked"))
    submit = client.post(URL, {"action": "submit"})

    assert page.status_code == 200
    assert "Save the profile" not in page.content.decode()
    assert all(field.disabled for field in page.context["profile_form"].fields.values())
    assert refused.status_code == 403
    assert submit.status_code == 403
    assert snapshot(merchant_a) == before


def test_developers_and_support_cannot_reach_settings(client, merchant_a):
    for role in (Membership.Role.DEVELOPER, Membership.Role.SUPPORT):
        person = factories.member(merchant_a, f"{role}@example.org", role)
        client.force_login(person)
        assert client.get(URL).status_code == 403


def test_an_admin_can_change_the_settings(client, merchant_a):
    admin = factories.member(merchant_a, "admin@example.org", Membership.Role.ADMIN)
    client.force_login(admin)

    assert client.post(URL, profile()).status_code == 302
    merchant_a.refresh_from_db()
    assert merchant_a.profile_complete


def test_another_merchant_never_sees_this_one(client, alice_client, merchant_a, charlie, merchant_b):
    alice_client.post(URL, profile(name="Alice Shop", iban="DE89370400440532013000"))
    client.force_login(charlie)
    session = client.session
    session[SESSION_MERCHANT] = merchant_a.pk  # a forged organisation id
    session.save()

    response = client.get(URL)
    client.post(URL, profile(name="Taken over"))

    content = response.content.decode()
    assert response.context["merchant"] == merchant_b
    assert "DE89370400440532013000" not in content
    assert "Alice Shop" not in content
    merchant_a.refresh_from_db()
    assert merchant_a.name == "Alice Shop"
    assert Merchant.objects.get(pk=merchant_b.pk).name == "Taken over"
