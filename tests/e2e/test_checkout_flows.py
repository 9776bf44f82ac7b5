"""Shoppers in a real browser (Chromium): the hosted page with every kind of card, one-click, a
payment link, the pay button on a page of another origin (lightbox) and on a phone (redirect), and
the hosted page in the four languages. Every step is a screenshot under test-artifacts/e2e/."""

import contextlib
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from merchants.models import Merchant
from payments import links
from payments.models import Payment, PaymentLink
from tests.factories import PASSWORD, publishable_key
from tests.payments.helpers import create_payment, hosted_path

from .conftest import DESKTOP, PHONE

pytestmark = pytest.mark.django_db(transaction=True)

EN = {"first_name": "Jeanne", "last_name": "Martin", "email": "jeanne@example.org", "language": "en"}
PAY = re.compile(r"^Pay ")


def fill_card(page, number, expiry="12/34", cvc="123", name="Jeanne Martin"):
    page.get_by_label("Name on card").fill(name)
    page.get_by_label("Card number").press_sequentially(number.replace(" ", ""))
    page.get_by_label("Expiry date (MM/YY)").press_sequentially(expiry.replace("/", ""))
    page.get_by_label("Security code").fill(cvc)


def row(payment) -> Payment:
    return Payment.objects.get(public_id=payment["id"])


def no_horizontal_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


# --- the hosted page ---------------------------------------------------------------------------------------


def test_success_card(api, new_page, shots):
    payment = create_payment(api, billing=EN, description="Order A-42")
    page = new_page()
    page.goto(hosted_path(payment))
    shots(page, "form")

    fill_card(page, "4242 4242 4242 4242")
    expect(page.get_by_label("Card number")).to_have_value("4242 4242 4242 4242")  # grouped as typed
    expect(page.locator("[data-card-brand]")).to_have_text("Visa")
    expect(page.get_by_label("Expiry date (MM/YY)")).to_have_value("12/34")
    shots(page, "filled")
    page.get_by_role("button", name=PAY).click()
    page.wait_for_url("**/result/")
    shots(page, "result")

    expect(page.get_by_role("heading", name="Payment successful")).to_be_visible()
    expect(page.get_by_role("link", name="Return to the shop")).to_have_attribute("href", "https://shop.example.org/ok")
    assert row(payment).status == Payment.Status.PAID


def test_browser_checks_show_errors_next_to_fields_before_sending(api, new_page, shots):
    payment = create_payment(api, billing=EN)
    page = new_page()
    page.goto(hosted_path(payment))

    fill_card(page, "4242 4242 4242 4241", expiry="01/20", cvc="12")
    page.get_by_role("button", name=PAY).click()
    shots(page, "errors")

    number = page.get_by_label("Card number")
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(number).to_be_focused()
    expect(page.locator("#id_number_error")).to_have_text("This card number is not valid.")
    expect(page.locator("#id_expiry_error")).to_have_text("This card has expired.")
    expect(page.locator("#id_cvc_error")).to_have_text("The security code is not valid: enter 3 digits.")
    assert "id_number_error" in number.get_attribute("aria-describedby")
    assert not row(payment).attempts.exists()  # nothing was sent

    number.fill("")
    number.press_sequentially("4242424242424242")
    page.get_by_label("Expiry date (MM/YY)").fill("12/34")
    page.get_by_label("Security code").fill("123")
    expect(page.locator("#id_number_error")).to_be_hidden()
    page.get_by_role("button", name=PAY).click()
    page.wait_for_url("**/result/")
    shots(page, "paid")
    assert row(payment).status == Payment.Status.PAID


def test_a_double_submission_makes_one_attempt(api, new_page, shots):
    payment = create_payment(api, billing=EN)
    page = new_page()
    page.goto(hosted_path(payment))
    fill_card(page, "4242 4242 4242 4242")

    page.evaluate(
        "() => { const f = document.querySelector('form[data-card-form]'); f.requestSubmit(); f.requestSubmit(); }"
    )
    page.wait_for_url("**/result/")
    shots(page, "result")

    assert row(payment).attempts.count() == 1


def test_declined_card_then_retry(api, new_page, shots):
    payment = create_payment(api, billing=EN)
    page = new_page()
    page.goto(hosted_path(payment))

    fill_card(page, "4000 0000 0000 9995")
    page.get_by_role("button", name=PAY).click()
    page.wait_for_url("**/result/")
    shots(page, "declined")
    expect(page.get_by_role("heading", name="Payment refused")).to_be_visible()
    expect(page.get_by_text("The card has insufficient funds.")).to_be_visible()

    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("alert").first).to_contain_text("The card has insufficient funds.")
    shots(page, "retry-form")
    fill_card(page, "5555 5555 5555 4444")
    expect(page.locator("[data-card-brand]")).to_have_text("Mastercard")
    page.get_by_role("button", name=PAY).click()
    page.wait_for_url("**/result/")
    shots(page, "paid")
    expect(page.get_by_role("heading", name="Payment successful")).to_be_visible()


@pytest.mark.parametrize(
    ("outcome", "heading"), [("Approve", "Payment successful"), ("Fail authentication", "Payment refused")]
)
def test_3ds_challenge(api, new_page, shots, outcome, heading):
    payment = create_payment(api, billing=EN)
    page = new_page()
    page.goto(hosted_path(payment))

    fill_card(page, "4000 0025 0000 3155")
    page.get_by_role("button", name=PAY).click()
    page.wait_for_url("**/3ds/")
    shots(page, "challenge")
    expect(page.get_by_role("heading", name="3-D Secure verification")).to_be_visible()
    page.get_by_role("button", name=outcome).click()
    page.wait_for_url("**/result/")
    shots(page, "outcome")

    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    assert row(payment).is_3ds is True


def test_a_saved_card_in_one_click(api, new_page, shots):
    customer = api.post("/v1/customers", {"email": "jeanne@example.org"}).json()["id"]
    first = create_payment(api, billing=EN, allow_save_card=True, customer_id=customer)
    page = new_page()
    page.goto(hosted_path(first))
    fill_card(page, "4242 4242 4242 4242", expiry="12/29")
    page.get_by_label("Remember this card for my next payments").check()
    shots(page, "consent")
    page.get_by_role("button", name=PAY).click()
    page.wait_for_url("**/result/")

    second = create_payment(api, billing=EN, customer_id=customer, amount=1990)
    page.goto(hosted_path(second))
    shots(page, "saved-cards")
    saved = page.get_by_role("button", name="Visa •••• 4242, expires 12/29")
    expect(saved).to_be_visible()
    saved.click()
    page.wait_for_url("**/result/")
    shots(page, "paid")

    expect(page.get_by_role("heading", name="Payment successful")).to_be_visible()
    assert row(second).status == Payment.Status.PAID
    assert row(second).card_public_id == row(first).card_public_id


# --- payment link -----------------------------------------------------------------------------------------


def test_a_payment_link_with_a_free_amount(merchant_a, new_page, shots):
    link = PaymentLink.objects.create(
        merchant=merchant_a,
        description="Donation to the food bank",
        min_amount=500,
        max_amount=50000,
        collect_name=True,
        collect_email=True,
    )
    page = new_page(locale="fr-FR")
    page.goto(f"/l/{link.slug}/")
    shots(page, "link-page")

    page.locator("#id_amount").fill("3")
    page.locator("#id_first_name").fill("Ana")
    page.locator("#id_last_name").fill("Lopez")
    page.locator("#id_email").fill("ana@example.org")
    page.locator("button[type=submit]").click()
    shots(page, "amount-too-low")
    expect(page.locator("#id_amount")).to_have_attribute("aria-invalid", "true")

    page.locator("#id_amount").fill("12,50")
    page.locator("button[type=submit]").click()
    page.wait_for_url("**/pay/*/")
    shots(page, "hosted-page")
    expect(page.locator(".amount")).to_have_text("12,50\u00a0€")
    page.locator("#id_cardholder").fill("Ana Lopez")
    page.locator("#id_number").press_sequentially("4242424242424242")
    page.locator("#id_expiry").press_sequentially("1234")
    page.locator("#id_cvc").fill("123")
    page.locator("form[data-card-form] button[type=submit]").click()
    page.wait_for_url("**/result/")
    shots(page, "paid")

    payment = link.payments.get()
    assert (payment.amount, payment.status, payment.source) == (1250, Payment.Status.PAID, "link")
    assert payment.billing["email"] == "ana@example.org"
    expect(page.locator("a[data-return]")).to_have_attribute("href", links.public_url(link))


# --- pay button on another origin ---------------------------------------------------------------------------

FOREIGN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Friends of the Park</title></head>
<body>
<h1>Friends of the Park</h1>
<p>Support our volunteers.</p>
<div data-payplatform-button data-key="{key}" data-amount="{amount}" data-label="{label}" data-language="en"></div>
<p><a href="#after">A link after the button</a></p>
<script src="{base}/static/js/paybutton.js" async></script>
</body></html>
"""


@contextlib.contextmanager
def foreign_site(html: str):
    """A tiny web server of another origin (another host name and port) serving one page."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _button_site(merchant, live_server, amount="1500", label="Donate €15"):
    key = publishable_key(merchant)
    return foreign_site(FOREIGN_PAGE.format(key=key, amount=amount, label=label, base=live_server.url))


def test_the_pay_button_on_another_origin_opens_a_lightbox_and_pays_inside(merchant_a, live_server, new_page, shots):
    with _button_site(merchant_a, live_server) as origin:
        assert not origin.startswith(live_server.url)
        Merchant.objects.filter(pk=merchant_a.pk).update(allowed_origins=[origin])
        page = new_page(viewport=DESKTOP)
        page.goto(origin + "/")
        button = page.get_by_role("button", name="Donate €15")
        expect(button).to_be_visible()
        shots(page, "foreign-page")

        button.click()
        dialog = page.get_by_role("dialog", name="Secure payment")
        expect(dialog).to_be_visible()
        frame = page.frame_locator("iframe[title='Secure payment']")
        expect(frame.get_by_label("Card number")).to_be_visible()
        expect(page.get_by_role("button", name="Close")).to_be_focused()
        shots(page, "lightbox")

        page.keyboard.press("Escape")  # closes, and gives the focus back to the button
        expect(dialog).to_be_hidden()
        expect(button).to_be_focused()

        button.click()
        frame = page.frame_locator("iframe[title='Secure payment']")
        frame.get_by_label("Name on card").fill("Jeanne Martin")
        frame.get_by_label("Card number").press_sequentially("4242424242424242")
        frame.get_by_label("Expiry date (MM/YY)").press_sequentially("1234")
        frame.get_by_label("Security code").fill("123")
        shots(page, "lightbox-filled")
        frame.get_by_role("button", name=PAY).click()
        expect(frame.get_by_role("heading", name="Payment successful")).to_be_visible()
        shots(page, "lightbox-paid")

        paid = Payment.objects.filter(source="button", status=Payment.Status.PAID)
        assert paid.count() == 1 and paid.get().amount == 1500
        # The embedding page takes the shopper back to where they were.
        page.wait_for_url(origin + "/", timeout=10_000)
        expect(page.get_by_role("dialog")).to_have_count(0)
        shots(page, "back-on-the-site")


def test_the_pay_button_with_a_free_amount_and_3ds_in_the_lightbox(merchant_a, live_server, new_page, shots):
    with _button_site(merchant_a, live_server, amount="free", label="Give") as origin:
        Merchant.objects.filter(pk=merchant_a.pk).update(allowed_origins=[origin])
        page = new_page()
        page.goto(origin + "/")
        page.get_by_label("Amount (€)").fill("2")
        page.get_by_role("button", name="Give").click()
        frame = page.frame_locator("iframe[title='Secure payment']")
        frame.get_by_label("Name on card").fill("Jeanne Martin")
        frame.get_by_label("Card number").press_sequentially("4000002500003155")
        frame.get_by_label("Expiry date (MM/YY)").press_sequentially("1234")
        frame.get_by_label("Security code").fill("123")
        frame.get_by_role("button", name=PAY).click()
        expect(frame.get_by_role("heading", name="3-D Secure verification")).to_be_visible()
        shots(page, "lightbox-3ds")
        frame.get_by_role("button", name="Approve").click()
        expect(frame.get_by_role("heading", name="Payment successful")).to_be_visible()
        shots(page, "lightbox-paid")

        assert Payment.objects.get(source="button").amount == 200


def test_an_origin_not_allowed_cannot_use_the_button(merchant_a, live_server, new_page, shots):
    with _button_site(merchant_a, live_server) as origin:
        Merchant.objects.filter(pk=merchant_a.pk).update(allowed_origins=["https://elsewhere.example.org"])
        page = new_page()
        page.goto(origin + "/")
        page.get_by_role("button", name="Donate €15").click()

        expect(page.get_by_role("status")).to_have_text("The payment could not be started. Please try again.")
        shots(page, "refused")
        assert not Payment.objects.exists()


def test_on_a_phone_the_pay_button_redirects_instead_of_a_lightbox(merchant_a, live_server, new_page, shots):
    with _button_site(merchant_a, live_server) as origin:
        Merchant.objects.filter(pk=merchant_a.pk).update(allowed_origins=[origin])
        page = new_page(viewport=PHONE)
        page.goto(origin + "/")
        shots(page, "foreign-page")
        page.get_by_role("button", name="Donate €15").click()

        page.wait_for_url(live_server.url + "/pay/*/")
        expect(page.get_by_role("dialog")).to_have_count(0)
        shots(page, "hosted-page")
        no_horizontal_scroll(page)
        fill_card(page, "4242 4242 4242 4242")
        page.get_by_role("button", name=PAY).click()
        page.wait_for_url("**/result/")
        shots(page, "paid")
        no_horizontal_scroll(page)

        expect(page.get_by_role("link", name="Return to the shop")).to_have_attribute("href", origin + "/")
        assert Payment.objects.get(source="button").status == Payment.Status.PAID


# --- phone and languages ---------------------------------------------------------------------------------


def test_3ds_and_one_click_pages_fit_a_phone(api, new_page, shots):
    payment = create_payment(api, billing=EN)
    page = new_page(viewport=PHONE)
    page.goto(hosted_path(payment))
    no_horizontal_scroll(page)
    fill_card(page, "4000 0025 0000 3155")
    page.get_by_role("button", name=PAY).click()
    page.wait_for_url("**/3ds/")
    shots(page, "challenge")
    no_horizontal_scroll(page)
    page.get_by_role("button", name="Abandon").click()
    page.wait_for_url("**/result/")
    shots(page, "abandoned")
    no_horizontal_scroll(page)
    expect(page.get_by_role("heading", name="Payment refused")).to_be_visible()


LANGUAGES = {
    "en": ("€33.00", "Name on card", "Pay €33.00"),
    "fr": ("33,00\u00a0€", "Nom sur la carte", "Payer 33,00\u00a0€"),
    "it": ("33,00\u00a0€", "Titolare della carta", "Paga 33,00\u00a0€"),
    "es": ("33,00\u00a0€", "Titular de la tarjeta", "Pagar 33,00\u00a0€"),
}


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_hosted_page_in_four_languages(api, new_page, shots, language, viewport):
    amount, label, button = LANGUAGES[language]
    payment = create_payment(api, billing={**EN, "language": language})
    page = new_page(viewport=viewport, locale="de-DE")
    page.goto(hosted_path(payment))
    shots(page, f"form-{language}")

    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator(".amount")).to_have_text(amount)
    expect(page.get_by_label(label)).to_be_visible()
    expect(page.locator("form[data-card-form] button[type=submit]")).to_have_text(button)
    no_horizontal_scroll(page)

    page.locator("form[data-card-form] button[type=submit]").click()  # empty form: localized errors
    shots(page, f"errors-{language}")
    expect(page.locator("#id_number_error")).to_be_visible()


# --- dashboard ---------------------------------------------------------------------------------------------


def test_the_dashboard_makes_a_link_and_previews_the_pay_button_under_our_csp(alice, merchant_a, new_page, shots):
    page = new_page()
    errors = []
    page.on(
        "console", lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.goto("/login/")
    page.locator("input[name=username]").fill(alice.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/**")

    page.goto("/dashboard/links/new/")
    page.get_by_label("What is the payment for?").fill("Donations 2027")
    page.get_by_label("The payer chooses the amount (donations)").check()
    page.get_by_label("Minimum (€)").fill("5")
    page.get_by_label("Maximum (€)").fill("100")
    shots(page, "new-link")
    page.get_by_role("button", name="Create the link").click()
    expect(page.get_by_role("heading", name="Donations 2027")).to_be_visible()
    expect(page.get_by_role("img", name="QR code of the link")).to_be_visible()
    shots(page, "link-detail")
    link = PaymentLink.objects.get(description="Donations 2027")
    assert (link.min_amount, link.max_amount, link.amount) == (500, 10000, None)

    page.goto("/dashboard/paybutton/")
    preview = page.locator("#button-preview").get_by_role("button")
    expect(preview).to_have_text("Pay €10.00")  # rendered by paybutton.js, allowed by our CSP
    page.get_by_label("Button text (optional)").fill("Support us")
    expect(preview).to_have_text("Support us")
    expect(page.locator("#snippet")).to_contain_text('data-label="Support us"')
    shots(page, "paybutton-page")
    preview.click()
    frame = page.frame_locator("iframe[title='Secure payment']")
    expect(frame.get_by_label("Card number")).to_be_visible()
    shots(page, "preview-lightbox")

    assert not errors, errors
    assert Payment.objects.get(source="button").is_live is False
