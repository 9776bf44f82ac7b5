"""The message catalogues (locale/<lang>/LC_MESSAGES/django.po) and the pages rendered with them.

The .po files are read with a small parser of our own, so that a catalogue problem shows up here
with the message concerned and not only as "msgfmt failed" in the install step.
"""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation

from tests.payments.helpers import create_payment, hosted_path

LOCALE = Path(settings.BASE_DIR) / "locale"
TEMPLATES = Path(settings.BASE_DIR) / "templates"
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
PLACEHOLDER = re.compile(r"%\([A-Za-z0-9_]+\)[sdr]")
TAG = re.compile(r"</?[a-z][a-z0-9]*")


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    """LocaleMiddleware leaves the last request's language active in this thread: reset it."""
    yield
    translation.deactivate()


# --- a tiny .po parser --------------------------------------------------------------------


def parse_po(path: Path) -> list[dict]:
    """Entries as dicts: msgid, msgid_plural, msgstr (list of forms), flags, line."""
    entries, current, key = [], None, None

    def finish():
        if current is not None and "msgid" in current:
            entries.append(current)

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#,"):
            if current is not None and "msgid" in current:
                finish()
                current = None
            current = current or {"flags": set(), "line": number}
            current["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line)
        if match:
            keyword, index, literal = match.groups()
            if keyword in ("msgctxt", "msgid") and current is not None and "msgid" in current:
                finish()
                current = None
            current = current or {"flags": set(), "line": number}
            if keyword.startswith("msgstr"):
                forms = current.setdefault("msgstr", {})
                key = ("msgstr", int(index or 0))
                forms[key[1]] = ast.literal_eval(literal)
            else:
                key = (keyword, None)
                current[keyword] = ast.literal_eval(literal)
        elif line.startswith('"') and current is not None and key is not None:
            if key[0] == "msgstr":
                current["msgstr"][key[1]] += ast.literal_eval(line)
            else:
                current[key[0]] += ast.literal_eval(line)
        else:
            raise AssertionError(f"{path}:{number}: cannot parse {raw!r}")
    finish()
    for entry in entries:
        forms = entry.get("msgstr", {})
        entry["msgstr"] = [forms[i] for i in sorted(forms)]
    return entries


def catalogue(lang: str) -> tuple[dict, list[dict]]:
    path = LOCALE / lang / "LC_MESSAGES" / "django.po"
    assert path.is_file(), f"{path} is missing: run `make makemessages` and translate it"
    entries = parse_po(path)
    header = next(entry for entry in entries if entry["msgid"] == "")
    return header, [entry for entry in entries if entry["msgid"] != ""]


def nplurals(header: dict) -> int:
    match = re.search(r"nplurals=(\d+)", header["msgstr"][0])
    assert match, "the catalogue has no Plural-Forms header"
    return int(match.group(1))


# --- the catalogues -------------------------------------------------------------------------


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_and_none_is_fuzzy(lang):
    header, entries = catalogue(lang)
    assert entries, f"{lang}: empty catalogue"
    assert "fuzzy" not in header["flags"], f"{lang}: the header is still marked fuzzy"
    assert f"Language: {lang}\n" in header["msgstr"][0], f"{lang}: the Language header is not set"
    fuzzy = [entry["msgid"] for entry in entries if "fuzzy" in entry["flags"]]
    assert not fuzzy, f"{lang}: fuzzy entries: {fuzzy}"
    forms = nplurals(header)
    empty = []
    for entry in entries:
        expected = forms if "msgid_plural" in entry else 1
        if len(entry["msgstr"]) != expected or not all(form.strip() for form in entry["msgstr"]):
            empty.append(entry["msgid"])
    assert not empty, f"{lang}: untranslated or incomplete entries: {empty}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_placeholders_and_markup(lang):
    _header, entries = catalogue(lang)
    problems = []
    for entry in entries:
        source = entry.get("msgid_plural", entry["msgid"])
        wanted_placeholders = set(PLACEHOLDER.findall(source)) | set(PLACEHOLDER.findall(entry["msgid"]))
        wanted_tags = sorted(TAG.findall(entry["msgid"]))
        for form in entry["msgstr"]:
            found = set(PLACEHOLDER.findall(form))
            # A singular form may leave out the count (“une clé”), never add an unknown name.
            if not found <= wanted_placeholders or (
                "msgid_plural" not in entry and found != set(PLACEHOLDER.findall(entry["msgid"]))
            ):
                problems.append((entry["msgid"], form, "placeholders"))
            if sorted(TAG.findall(form)) != wanted_tags:
                problems.append((entry["msgid"], form, "markup"))
    assert not problems, f"{lang}: {problems}"


TEMPLATE_LITERAL = re.compile(r"""{%\s*(?:translate|trans)\s+(["'])(.*?)\1""")
BLOCK = re.compile(r"{%\s*blocktrans(?:late)?\b([^%]*)%}(.*?){%\s*(?:plural|endblocktrans(?:late)?)\s*%}", re.S)


def _template_messages() -> dict[str, str]:
    """msgid -> template, for the literal strings marked in templates/ (what makemessages extracts)."""
    found = {}
    for path in sorted(TEMPLATES.rglob("*")):
        if path.suffix not in (".html", ".txt"):
            continue
        text = path.read_text(encoding="utf-8")
        for _quote, literal in TEMPLATE_LITERAL.findall(text):
            found.setdefault(literal, str(path.relative_to(settings.BASE_DIR)))
        for options, body in BLOCK.findall(text):
            if "trimmed" in options or "context" in options:
                continue
            msgid = re.sub(r"{{\s*(\w+)\s*}}", r"%(\1)s", body)
            found.setdefault(msgid, str(path.relative_to(settings.BASE_DIR)))
    return found


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_template_string_is_in_the_catalogue(lang):
    """A template string missing here was added after the last `make makemessages`."""
    _header, entries = catalogue(lang)
    known = {entry["msgid"] for entry in entries}
    missing = {msgid: where for msgid, where in _template_messages().items() if msgid not in known}
    assert not missing, f"{lang}: run `make makemessages` and translate: {missing}"


# The names xgettext (makemessages) extracts from Python; a string passed to any other name, such
# as `from django.utils.translation import gettext as _gettext`, never reaches the catalogue.
EXTRACTED = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy", "npgettext"}
EXTRACTED |= {"npgettext_lazy", "gettext_noop"}
APPS = ["payplug", "merchants", "payments", "notifications", "fraud"]


def _python_messages() -> dict[str, str]:
    """msgid -> module, for the literal first arguments of gettext calls in the apps' code."""
    found = {}
    for app in APPS:
        for path in sorted((Path(settings.BASE_DIR) / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                    continue
                if node.func.id not in EXTRACTED or not node.args:
                    continue
                first = node.args[1] if node.func.id.startswith(("pgettext", "npgettext")) else node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.setdefault(first.value, str(path.relative_to(settings.BASE_DIR)))
    return found


def test_translation_functions_are_imported_under_names_makemessages_extracts():
    aliased = []
    for app in APPS:
        for path in sorted((Path(settings.BASE_DIR) / app).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
                    for name in node.names:
                        if "gettext" in name.name and (name.asname or name.name) not in EXTRACTED:
                            aliased.append(f"{path.relative_to(settings.BASE_DIR)}: {name.name} as {name.asname}")
    assert not aliased, f"makemessages does not extract these names: {aliased}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_python_string_is_in_the_catalogue(lang):
    _header, entries = catalogue(lang)
    known = {entry["msgid"] for entry in entries}
    missing = {msgid: where for msgid, where in _python_messages().items() if msgid not in known}
    assert not missing, f"{lang}: run `make makemessages` and translate: {missing}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_compiled_catalogue_is_up_to_date(lang):
    po = LOCALE / lang / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    assert mo.is_file(), f"{mo} is missing: run `make messages` (compilemessages)"
    assert mo.stat().st_mtime >= po.stat().st_mtime, f"{mo} is older than its .po: run `make messages`"


# --- pages rendered in each language -----------------------------------------------------------

# Per language: words that must appear, and English words that must not (a sign of a missing catalogue).
PAGES = {
    "en": {
        "login": ["Log in", "Forgot your password?", "Create an account"],
        "signup": ["Create an account", "Create my account", "Full name"],
        "home": ["Welcome, Alice Shop", "Activate live payments", "Developers", "Test mode"],
        "pay": ["Name on card", "Card number", "Test mode: no real money will move."],
    },
    "fr": {
        "login": ["Se connecter", "Mot de passe oublié", "Créer un compte"],
        "signup": ["Créer un compte", "Créer mon compte", "Nom complet"],
        "home": ["Bienvenue, Alice Shop", "Activer les paiements réels", "Développeurs", "Mode test"],
        "pay": ["Nom sur la carte", "Numéro de carte", "Cryptogramme visuel"],
    },
    "it": {
        "login": ["Accedi", "Password dimenticata?", "Crea un account"],
        "signup": ["Crea un account", "Crea il mio account", "Nome e cognome"],
        "home": [
            "Le diamo il benvenuto, Alice Shop",
            "Attivazione dei pagamenti reali",
            "Sviluppatori",
            "Modalità test",
        ],
        "pay": ["Titolare della carta", "Numero della carta", "Codice di sicurezza"],
    },
    "es": {
        "login": ["Iniciar sesión", "¿Ha olvidado su contraseña?", "Crear una cuenta"],
        "signup": ["Crear una cuenta", "Crear mi cuenta", "Nombre completo"],
        "home": [
            "Le damos la bienvenida, Alice Shop",
            "Activación de los pagos reales",
            "Desarrolladores",
            "Modo de prueba",
        ],
        "pay": ["Titular de la tarjeta", "Número de tarjeta", "Código de seguridad"],
    },
}
ENGLISH_ONLY = {
    "login": ["Forgot your password?", "New here?"],
    "signup": ["Create my account", "Already have an account?"],
    "home": ["Activate live payments", "Payment links"],
    "pay": ["Name on card", "Expiry date"],
}
LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


def _assert_page(response, lang, page):
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert f'<html lang="{lang}">' in html
    missing = [text for text in PAGES[lang][page] if text not in html]
    assert not missing, f"{lang} {page}: missing {missing}"
    if lang != "en":
        leftovers = [text for text in ENGLISH_ONLY[page] if text in html]
        assert not leftovers, f"{lang} {page}: still in English: {leftovers}"


def test_the_expectations_cover_every_language():
    assert sorted(PAGES) == sorted(LANGUAGE_CODES)


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGUAGE_CODES)
def test_login_and_signup_pages_follow_the_browser_language(client, lang):
    headers = {"accept-language": f"{lang},en;q=0.5"}
    _assert_page(client.get(reverse("login"), headers=headers), lang, "login")
    _assert_page(client.get(reverse("signup"), headers=headers), lang, "signup")


@pytest.mark.parametrize("lang", LANGUAGE_CODES)
def test_dashboard_home_follows_the_chosen_language(alice_client, lang):
    # The language switcher stores the choice in a cookie; it wins over the browser's language.
    response = alice_client.post(reverse("set_language"), {"language": lang, "next": "/dashboard/"})
    assert response.status_code == 302
    _assert_page(alice_client.get(reverse("dashboard:home"), headers={"accept-language": "de"}), lang, "home")


@pytest.mark.parametrize("lang", LANGUAGE_CODES)
def test_hosted_payment_page_speaks_the_shopper_language(api, client, lang):
    billing = {"first_name": "Jeanne", "last_name": "Martin", "email": "jeanne@example.org", "language": lang}
    payment = create_payment(api, billing=billing)
    _assert_page(client.get(hosted_path(payment)), lang, "pay")


SUBJECTS = {
    "en": "Confirm your email address",
    "fr": "Confirmez votre adresse e-mail",
    "it": "Confermi il Suo indirizzo email",
    "es": "Confirme su dirección de correo electrónico",
}


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGUAGE_CODES)
def test_verification_email_is_sent_in_the_language_of_the_sign_up(client, lang):
    data = {"email": f"new-{lang}@example.org", "full_name": "Nouvelle Personne", "password": "Tr3s-Solide-Passe"}
    response = client.post(reverse("signup"), data, headers={"accept-language": lang})
    assert response.status_code == 302, response.content.decode()
    (message,) = mail.outbox
    assert message.subject == SUBJECTS[lang]
    if lang != "en":
        assert "The PayPlatform team" not in message.body
