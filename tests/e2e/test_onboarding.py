"""Sign-up through onboarding to a test key, in a real browser at phone width, in each language.

Each step takes a screenshot (test-artifacts/e2e/<test>/NN-<step>.png), checks that the page does
not scroll sideways at 375 px, and checks a heading or a button in the language of the browser.
Then: roles that must not reach the developers and team-management pages, and a second merchant
trying the first one's dashboard URLs.
"""
# French and Italian texts use the typographic apostrophe (U+2019), exactly as the catalogues do.
# ruff: noqa: RUF001

import re
from urllib.parse import urlsplit

import pytest
import requests
from django.core import mail

from merchants.models import ApiKey, Membership, Merchant, User
from tests import factories
from tests.payments.helpers import create_payment, payment_body

from .conftest import PHONE

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Bien-Choisi-2026!"

# What a person reading each language sees on each step (headings and buttons).
TEXT = {
    "en": {
        "locale": "en-US",
        "signup": "Create an account",
        "create_account": "Create my account",
        "check_email": "Confirm your email",
        "subject": "Confirm your email address",
        "greeting": "Hello Camille Martin,",
        "confirmed": "Your email address is confirmed.",
        "create_org": "Create your organisation",
        "create_and_complete": "Create and complete the profile",
        "settings": "Settings",
        "profile": "Organisation profile",
        "save_profile": "Save the profile",
        "saved": "The organisation profile is saved.",
        "submit": "Submit for review",
        "developers": "Developers",
        "test_keys": "Test secret keys",
        "create_key": "Create the key",
        "new_key": "Your new secret key",
        "copied": "I have copied the key",
        "payments": "Payments",
        "pay": "Pay",
        "paid": "Payment successful",
        "menu": "Menu",
    },
    "fr": {
        "locale": "fr-FR",
        "signup": "Créer un compte",
        "create_account": "Créer mon compte",
        "check_email": "Confirmez votre adresse e-mail",
        "subject": "Confirmez votre adresse e-mail",
        "greeting": "Bonjour Camille Martin,",
        "confirmed": "Votre adresse e-mail est confirmée.",
        "create_org": "Créez votre organisation",
        "create_and_complete": "Créer et compléter le profil",
        "settings": "Paramètres",
        "profile": "Profil de l’organisation",
        "save_profile": "Enregistrer le profil",
        "saved": "Le profil de l’organisation est enregistré.",
        "submit": "Soumettre pour validation",
        "developers": "Développeurs",
        "test_keys": "Clés secrètes de test",
        "create_key": "Créer la clé",
        "new_key": "Votre nouvelle clé secrète",
        "copied": "J’ai copié la clé",
        "payments": "Paiements",
        "pay": "Payer",
        "paid": "Paiement réussi",
        "menu": "Menu",
    },
    "it": {
        "locale": "it-IT",
        "signup": "Crea un account",
        "create_account": "Crea il mio account",
        "check_email": "Confermi il Suo indirizzo email",
        "subject": "Confermi il Suo indirizzo email",
        "greeting": "Gentile Camille Martin,",
        "confirmed": "Il Suo indirizzo email è confermato.",
        "create_org": "Crei la Sua organizzazione",
        "create_and_complete": "Crea e completa il profilo",
        "settings": "Impostazioni",
        "profile": "Profilo dell’organizzazione",
        "save_profile": "Salva il profilo",
        "saved": "Il profilo dell’organizzazione è stato salvato.",
        "submit": "Invia per la verifica",
        "developers": "Sviluppatori",
        "test_keys": "Chiavi segrete di test",
        "create_key": "Crea la chiave",
        "new_key": "La Sua nuova chiave segreta",
        "copied": "Ho copiato la chiave",
        "payments": "Pagamenti",
        "pay": "Paga",
        "paid": "Pagamento riuscito",
        "menu": "Menu",
    },
    "es": {
        "locale": "es-ES",
        "signup": "Crear una cuenta",
        "create_account": "Crear mi cuenta",
        "check_email": "Confirme su correo electrónico",
        "subject": "Confirme su dirección de correo electrónico",
        "greeting": "Hola, Camille Martin:",
        "confirmed": "Su dirección de correo electrónico está confirmada.",
        "create_org": "Cree su organización",
        "create_and_complete": "Crear y completar el perfil",
        "settings": "Configuración",
        "profile": "Perfil de la organización",
        "save_profile": "Guardar el perfil",
        "saved": "Se ha guardado el perfil de la organización.",
        "submit": "Enviar para revisión",
        "developers": "Desarrolladores",
        "test_keys": "Claves secretas (modo de prueba)",
        "create_key": "Crear la clave",
        "new_key": "Su nueva clave secreta",
        "copied": "He copiado la clave",
        "payments": "Pagos",
        "pay": "Pagar",
        "paid": "Pago realizado",
        "menu": "Menú",
    },
}

# A French company: SIREN, intra-community VAT number and a French IBAN, typed as people type them.
PROFILE = {
    "legal_form": "company",
    "country": "FR",
    "registration_number": "732 829 320",
    "vat_number": "FR 40 303265045",
    "iban": "FR14 2004 1010 0505 0001 3M02 606",
    "website": "https://boutique.example.fr",
    "support_email": "Support@Boutique.example.fr",
    "statement_descriptor": "BOUTIQUE CAMILLE",
}


# Visible elements sticking out of the viewport on either side. scrollWidth alone misses content
# pushed off the left edge (it cannot be scrolled to); a scrolling container (a table) may be wider.
OUTSIDE_VIEWPORT_JS = """() => {
    const width = document.documentElement.clientWidth;
    const clipped = (element) => {
        for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
            if (getComputedStyle(parent).overflowX !== "visible") return true;
        }
        return false;
    };
    const found = [];
    for (const element of document.body.querySelectorAll("*")) {
        if (element.closest(".skip-link, .visually-hidden")) continue;
        const box = element.getBoundingClientRect();
        if (!box.width || !box.height || getComputedStyle(element).visibility === "hidden") continue;
        if ((box.left < -1 || box.right > width + 1) && !clipped(element)) {
            const name = `${element.tagName.toLowerCase()}.${element.className}`;
            found.push(`${name} ${Math.round(box.left)}..${Math.round(box.right)}`);
        }
    }
    return found;
}"""


def open_menu(page):
    """On phones the dashboard menu starts folded (static/js/dashboard.js): unfold it like a user."""
    menu = page.locator(".sidebar details.nav-toggle")
    if menu.get_attribute("open") is None:
        menu.locator("summary").click()


def fits_phone_width(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide at {PHONE['width']}px"
    outside = page.evaluate(OUTSIDE_VIEWPORT_JS)
    assert not outside, f"{page.url}: outside the {PHONE['width']}px viewport: {outside}"


def step(page, shots, name, heading=None) -> None:
    """Screenshot, no horizontal scrolling, and (when given) the page's translated main heading."""
    page.wait_for_load_state("load")
    shots(page, name)
    fits_phone_width(page)
    if heading is not None:
        assert page.get_by_role("heading", level=1, name=heading, exact=True).is_visible(), (
            f"{name}: no heading {heading!r} on {page.url}"
        )


def message_link(message) -> str:
    match = re.search(r"https?://\S+/verify-email/\S+/", message.body)
    assert match, message.body
    return urlsplit(match.group(0)).path


@pytest.mark.parametrize("lang", list(TEXT))
def test_sign_up_to_a_working_test_key_at_phone_width(lang, new_page, shots, live_server):
    text = TEXT[lang]
    email = f"camille-{lang}@example.org"
    page = new_page(viewport=PHONE, locale=text["locale"])

    # 1. Sign up: the browser's Accept-Language picks the language.
    page.goto("/signup/")
    step(page, shots, "signup", text["signup"])
    assert page.locator("html").get_attribute("lang") == lang
    page.locator("#id_email").fill(email)
    page.locator("#id_full_name").fill("Camille Martin")
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name=text["create_account"], exact=True).click()

    # 2. "Check your email", and the email itself in the same language.
    page.wait_for_url("**/verify-email/sent/")
    step(page, shots, "verify-email-sent", text["check_email"])
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [email]
    assert message.subject == text["subject"]
    assert text["greeting"] in message.body

    # 3. The link confirms the address and leads to the organisation form.
    page.goto(message_link(message))
    page.wait_for_url("**/onboarding/organisation/")
    step(page, shots, "organisation", text["create_org"])
    assert page.get_by_text(text["confirmed"]).is_visible()
    assert User.objects.get(email=email).email_verified
    page.locator("#id_name").fill(f"Boutique Camille {lang.upper()}")
    page.get_by_role("button", name=text["create_and_complete"], exact=True).click()

    # 4. The organisation profile, with valid French numbers.
    page.wait_for_url("**/dashboard/settings/")
    step(page, shots, "settings", text["settings"])
    assert page.get_by_role("heading", name=text["profile"], exact=True).is_visible()
    assert page.get_by_role("button", name=text["submit"], exact=True).is_disabled()
    page.locator("#id_legal_form").select_option(PROFILE["legal_form"])
    page.locator("#id_country").select_option(PROFILE["country"])
    for field in ("registration_number", "vat_number", "iban", "website", "support_email", "statement_descriptor"):
        page.locator(f"#id_{field}").fill(PROFILE[field])
    page.get_by_role("button", name=text["save_profile"], exact=True).click()
    page.wait_for_url("**/dashboard/settings/")
    step(page, shots, "settings-saved", text["settings"])
    assert page.get_by_text(text["saved"]).is_visible()
    assert not page.locator(".field.has-error").count()
    assert page.get_by_role("button", name=text["submit"], exact=True).is_enabled()
    merchant = Merchant.objects.get(memberships__user__email=email)
    assert merchant.missing_profile_fields() == []
    assert (merchant.registration_number, merchant.vat_number) == ("732829320", "FR40303265045")
    assert merchant.iban == "FR1420041010050500013M02606"

    # 5. Developers, through the navigation menu.
    open_menu(page)
    page.get_by_role("navigation").get_by_role("link", name=text["developers"], exact=True).click()
    page.wait_for_url("**/dashboard/developers/")
    step(page, shots, "developers", text["developers"])
    assert page.get_by_role("heading", name=text["test_keys"], exact=True).is_visible()
    page.locator("#id_name").fill("Serveur boutique")
    page.get_by_role("button", name=text["create_key"], exact=True).click()

    # 6. The secret key, shown once.
    step(page, shots, "key-created", text["new_key"])
    raw_key = page.locator("#raw-key").input_value().strip()
    assert re.fullmatch(r"sk_test_[0-9A-Za-z]{32}", raw_key), raw_key
    page.get_by_role("link", name=text["copied"], exact=True).click()
    page.wait_for_url("**/dashboard/developers/")
    step(page, shots, "developers-after", text["developers"])
    assert raw_key not in page.content()
    assert ApiKey.objects.filter(merchant=merchant, kind=ApiKey.Kind.SECRET, is_live=False).count() == 1

    # 7. The key works against the API (and another key does not).
    api = f"{live_server.url}/v1/payments"
    body = payment_body(amount=4200)
    body["billing"]["language"] = lang
    created = requests.post(api, json=body, headers={"Authorization": f"Bearer {raw_key}"}, timeout=15)
    assert created.status_code == 201, created.text
    payment = created.json()
    assert payment["is_live"] is False
    fetched = requests.get(f"{api}/{payment['id']}", headers={"Authorization": f"Bearer {raw_key}"}, timeout=15)
    assert fetched.status_code == 200 and fetched.json()["id"] == payment["id"]
    refused = requests.get(api, headers={"Authorization": "Bearer sk_test_" + "x" * 32}, timeout=15)
    assert refused.status_code == 401

    # 8. The payment shows in the dashboard, and the shopper pays on the hosted page in this language.
    open_menu(page)
    page.get_by_role("navigation").get_by_role("link", name=text["payments"], exact=True).click()
    step(page, shots, "payments", text["payments"])
    assert page.get_by_role("link", name=payment["id"]).is_visible()
    page.goto(urlsplit(payment["hosted_payment"]["payment_url"]).path)
    step(page, shots, "hosted-page")
    assert page.locator("html").get_attribute("lang") == lang
    page.locator("#id_cardholder").fill("Jeanne Martin")
    page.locator("#id_number").fill("4242 4242 4242 4242")
    page.locator("#id_expiry").fill("12/34")
    page.locator("#id_cvc").fill("123")
    # The pay button reads "<verb> <amount>" with the amount formatted for the language (42,00 € in French).
    pay_button = page.get_by_role("button", name=re.compile(rf"^{re.escape(text['pay'])}\s.*42[.,]00"))
    pay_button.click()
    page.wait_for_url("**/result/")
    step(page, shots, "hosted-result", text["paid"])
    paid = requests.get(f"{api}/{payment['id']}", headers={"Authorization": f"Bearer {raw_key}"}, timeout=15)
    assert paid.json()["is_paid"] is True


def test_language_switcher_at_phone_width(new_page, shots):
    factories.merchant("Alice Shop", owner=factories.user("alice@example.org"))
    page = new_page(viewport=PHONE, locale="en-US")

    page.goto("/login/")
    step(page, shots, "login-en", "Log in")
    page.locator("#language-select").select_option("it")
    with page.expect_navigation():
        page.get_by_role("button", name="Change", exact=True).click()
    step(page, shots, "login-it", "Accedi")

    page.locator("#id_username").fill("alice@example.org")
    page.locator("#id_password").fill(factories.PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Accedi", exact=True).click()
    page.wait_for_url("**/dashboard/")
    step(page, shots, "home-it", "Le diamo il benvenuto, Alice Shop")

    # The switcher of the dashboard sits in the account menu.
    page.locator(".account-menu summary").click()
    step(page, shots, "account-menu-open")
    page.locator("#language-select").select_option("es")
    with page.expect_navigation():
        page.get_by_role("button", name="Cambia", exact=True).click()
    step(page, shots, "home-es", "Le damos la bienvenida, Alice Shop")
    open_menu(page)
    assert page.get_by_role("navigation").get_by_role("link", name="Inicio", exact=True).is_visible()


# --- roles ---------------------------------------------------------------------------------------

FORBIDDEN_PAGES = {
    Membership.Role.SUPPORT: [
        "/dashboard/developers/",
        "/dashboard/developers/api/",
        "/dashboard/settings/",
        "/dashboard/audit/",
    ],
    Membership.Role.ACCOUNTANT: [
        "/dashboard/developers/",
        "/dashboard/developers/api/",
        "/dashboard/settings/",
        "/dashboard/audit/",
    ],
    Membership.Role.DEVELOPER: ["/dashboard/settings/", "/dashboard/audit/"],
}


def log_in(page, email, password=factories.PASSWORD):
    page.goto("/login/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/dashboard/")


def post_from_page(page, path, data) -> int:
    """POST like a hand-made form would, with the page's CSRF token; returns the status code."""
    return page.evaluate(
        """async ([path, data]) => {
            const body = new URLSearchParams(data);
            body.set("csrfmiddlewaretoken", document.querySelector("input[name=csrfmiddlewaretoken]").value);
            const response = await fetch(path, {method: "POST", body, redirect: "manual"});
            return response.status;
        }""",
        [path, data],
    )


@pytest.mark.parametrize("role", list(FORBIDDEN_PAGES))
def test_roles_cannot_open_developers_or_manage_the_team(role, new_page, shots):
    alice = factories.user("alice@example.org")
    shop = factories.merchant("Alice Shop", owner=alice)
    email = f"{role}@example.org"
    factories.member(shop, email, role)
    owner_membership = Membership.objects.get(merchant=shop, user=alice)
    page = new_page(viewport=PHONE, locale="fr-FR")
    log_in(page, email)
    step(page, shots, "home", "Bienvenue, Alice Shop")
    nav = page.get_by_role("navigation")
    assert nav.get_by_role("link", name="Paramètres", exact=True).count() == 0
    if role != Membership.Role.DEVELOPER:
        assert nav.get_by_role("link", name="Développeurs", exact=True).count() == 0

    for path in FORBIDDEN_PAGES[role]:
        response = page.goto(path)
        assert response.status == 403, (path, response.status)
        step(page, shots, "forbidden-" + path.strip("/").replace("/", "-"), "Accès refusé")

    # Every role reads the team, none of these may change it.
    response = page.goto("/dashboard/team/")
    assert response.status == 200
    step(page, shots, "team", "Équipe")
    assert page.get_by_role("heading", name="Inviter un membre").count() == 0
    assert page.locator("#id_email").count() == 0
    assert post_from_page(page, "/dashboard/team/", {"email": "mallory@example.org", "role": "owner"}) == 403
    response = page.goto(f"/dashboard/team/members/{owner_membership.pk}/")
    assert response.status == 200
    step(page, shots, "team-member")
    assert page.get_by_role("button", name="Modifier le rôle").count() == 0
    assert post_from_page(page, f"/dashboard/team/members/{owner_membership.pk}/", {"action": "remove"}) == 403
    if role != Membership.Role.DEVELOPER:
        assert post_from_page(page, "/dashboard/developers/", {"name": "sneaky"}) == 403
    assert Membership.objects.filter(merchant=shop).count() == 2
    assert not ApiKey.objects.filter(merchant=shop, name="sneaky").exists()


def test_second_merchant_gets_404_on_the_first_one_urls(api, api_b, merchant_a, new_page, shots):
    shopper = {"first_name": "Ana", "last_name": "Lopez", "email": "ana.lopez@example.org", "language": "es"}
    theirs = create_payment(api, billing=shopper)
    ours = create_payment(api_b)
    alice_membership = Membership.objects.get(merchant=merchant_a, user__email="alice@example.org")
    page = new_page(viewport=PHONE, locale="es-ES")
    log_in(page, "charlie@example.org")
    step(page, shots, "home", "Le damos la bienvenida, Charlie Store")

    response = page.goto(f"/dashboard/payments/{ours['id']}/")
    assert response.status == 200
    step(page, shots, "own-payment")

    for name, path in [
        ("payment", f"/dashboard/payments/{theirs['id']}/"),
        ("member", f"/dashboard/team/members/{alice_membership.pk}/"),
    ]:
        response = page.goto(path)
        assert response.status == 404, (path, response.status)
        step(page, shots, f"other-merchant-{name}", "Página no encontrada")
        assert "ana.lopez@example.org" not in page.content()
        assert "alice@example.org" not in page.content()
