/* PayPlatform pay button: paste into any page, no dependency.
 *
 *   <div data-payplatform-button data-key="pk_test_..." data-amount="1500"
 *        data-label="Donate" data-language="fr"></div>
 *   <script src="https://<our host>/static/js/paybutton.js" async></script>
 *
 * data-amount: cents, or "free" (the payer types it; data-min / data-max in cents).
 * Optional: data-label, data-description, data-language (en, fr, it, es), data-return-url;
 * data-name, data-email: "optional" or "required" to ask for the payer's name and email address
 * (the receipt is sent to it); data-color (#rrggbb, the organisation's brand colour) and
 * data-text-color (its readable text colour; when absent, black or white, whichever contrasts more);
 * data-frequencies: "once", "month", "year", comma-separated (default "once"): with several, the
 * payer chooses (radio buttons, the first ticked); "month" or "year" starts a subscription (its
 * secure page asks for the payer's consent to the future charges) and needs the email address,
 * asked for then even without data-email.
 * The button asks our public endpoint for a payment (publishable key, from an allowed origin
 * only), then opens its secure page in a lightbox (an accessible modal dialog with an iframe),
 * or goes to it on small screens. The element receives a `payplatform:result` event.
 */
(function () {
  "use strict";

  if (window.PayPlatformButton) { window.PayPlatformButton.renderAll(); return; }

  var script = document.currentScript;
  function baseUrl() {
    var candidates = script ? [script] : document.querySelectorAll("script[src*='paybutton.js']");
    for (var i = 0; i < candidates.length; i++) {
      try { return new URL(candidates[i].src, window.location.href).origin; } catch (e) { /* next */ }
    }
    return window.location.origin;
  }
  var BASE = baseUrl();
  var SMALL_SCREEN = 600;

  var TEXT = {
    en: { pay: "Pay {amount}", payFree: "Pay", amount: "Amount (€)", range: "Between {min} and {max}",
          invalid: "Enter an amount between {min} and {max}.", failed: "The payment could not be started. Please try again.",
          dialog: "Secure payment", close: "Close", loading: "Loading the secure payment page…",
          firstName: "First name", lastName: "Last name", email: "Email address", optional: "(optional)",
          receipt: "Your receipt is sent to this address.", needName: "Enter your first and last name.",
          needEmail: "Enter your email address: your receipt is sent to it.", badEmail: "Enter a valid email address.",
          often: "How often", once: "One-off", month: "Monthly", year: "Yearly", everyMonth: "every month", everyYear: "every year",
          needEmailRecurring: "Enter your email address: it is needed for a monthly or yearly payment." },
    fr: { pay: "Payer {amount}", payFree: "Payer", amount: "Montant (€)", range: "Entre {min} et {max}",
          invalid: "Saisissez un montant entre {min} et {max}.", failed: "Le paiement n’a pas pu démarrer. Veuillez réessayer.",
          dialog: "Paiement sécurisé", close: "Fermer", loading: "Chargement de la page de paiement sécurisée…",
          firstName: "Prénom", lastName: "Nom", email: "Adresse e-mail", optional: "(facultatif)",
          receipt: "Votre reçu est envoyé à cette adresse.", needName: "Saisissez votre prénom et votre nom.",
          needEmail: "Saisissez votre adresse e-mail : votre reçu y est envoyé.", badEmail: "Saisissez une adresse e-mail valide.",
          often: "Fréquence", once: "Une fois", month: "Tous les mois", year: "Tous les ans", everyMonth: "tous les mois", everyYear: "tous les ans",
          needEmailRecurring: "Saisissez votre adresse e-mail : elle est nécessaire pour un paiement mensuel ou annuel." },
    it: { pay: "Paga {amount}", payFree: "Paga", amount: "Importo (€)", range: "Tra {min} e {max}",
          invalid: "Inserisci un importo tra {min} e {max}.", failed: "Impossibile avviare il pagamento. Riprova.",
          dialog: "Pagamento sicuro", close: "Chiudi", loading: "Caricamento della pagina di pagamento sicura…",
          firstName: "Nome", lastName: "Cognome", email: "Indirizzo email", optional: "(facoltativo)",
          receipt: "La ricevuta viene inviata a questo indirizzo.", needName: "Inserisci nome e cognome.",
          needEmail: "Inserisci il tuo indirizzo email: la ricevuta viene inviata lì.", badEmail: "Inserisci un indirizzo email valido.",
          often: "Frequenza", once: "Una tantum", month: "Mensile", year: "Annuale", everyMonth: "ogni mese", everyYear: "ogni anno",
          needEmailRecurring: "Inserisci il tuo indirizzo email: è necessario per un pagamento mensile o annuale." },
    es: { pay: "Pagar {amount}", payFree: "Pagar", amount: "Importe (€)", range: "Entre {min} y {max}",
          invalid: "Introduce un importe entre {min} y {max}.", failed: "No se pudo iniciar el pago. Inténtalo de nuevo.",
          dialog: "Pago seguro", close: "Cerrar", loading: "Cargando la página de pago segura…",
          firstName: "Nombre", lastName: "Apellidos", email: "Correo electrónico", optional: "(opcional)",
          receipt: "Tu recibo se envía a esta dirección.", needName: "Introduce tu nombre y tus apellidos.",
          needEmail: "Introduce tu correo electrónico: tu recibo se envía allí.", badEmail: "Introduce un correo electrónico válido.",
          often: "Frecuencia", once: "Una vez", month: "Mensual", year: "Anual", everyMonth: "cada mes", everyYear: "cada año",
          needEmailRecurring: "Introduce tu correo electrónico: es necesario para un pago mensual o anual." }
  };

  function languageOf(el) {
    var wanted = (el.getAttribute("data-language") || document.documentElement.lang || navigator.language || "en");
    wanted = wanted.slice(0, 2).toLowerCase();
    return TEXT[wanted] ? wanted : "en";
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }

  function money(cents, language) {
    try {
      return new Intl.NumberFormat(language, { style: "currency", currency: "EUR" }).format(cents / 100);
    } catch (e) {
      return (cents / 100).toFixed(2) + " €";
    }
  }

  function parseAmount(text) {
    var cleaned = (text || "").replace(/[\s\u00a0\u202f€]/g, "");
    var m = /^(\d{1,7})(?:[.,](\d{1,2}))?$/.exec(cleaned);
    if (!m) return null;
    return parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10);
  }

  function css(el, styles) { for (var k in styles) el.style[k] = styles[k]; return el; }

  /* ---- colours: the organisation's brand colour, with text that stays readable (WCAG AA) ---- */
  var DEFAULT_COLOR = "#1f5fbf";
  function hexColor(value) {
    value = (value || "").trim().toLowerCase();
    if (/^#[0-9a-f]{3}$/.test(value)) value = "#" + value[1] + value[1] + value[2] + value[2] + value[3] + value[3];
    return /^#[0-9a-f]{6}$/.test(value) ? value : null;
  }
  function luminance(hex) {
    var channels = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
  }
  function contrast(a, b) {
    var la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }
  function colorsOf(el) {
    var background = hexColor(el.getAttribute("data-color")) || DEFAULT_COLOR;
    var text = hexColor(el.getAttribute("data-text-color"));
    if (!text || contrast(background, text) < 4.5) {
      text = contrast(background, "#ffffff") >= contrast(background, "#000000") ? "#ffffff" : "#000000";
    }
    return { background: background, text: text };
  }

  // What the snippet offers, as written (the endpoint refuses an unknown value with a clear message).
  function frequenciesOf(el) {
    var raw = (el.getAttribute("data-frequencies") || "").split(",").map(function (value) {
      return value.trim().toLowerCase();
    }).filter(function (value) { return value; });
    return raw.length ? raw : ["once"];
  }

  function askFor(el, name) {
    var value = (el.getAttribute("data-" + name) || "").trim().toLowerCase();
    return value === "optional" || value === "required" ? value : "";
  }

  function field(wrap, id, labelText, type, autocomplete, required, text, hintText) {
    var label = css(document.createElement("label"), { fontWeight: "600" });
    label.htmlFor = id;
    label.textContent = required ? labelText : labelText + " " + text.optional;
    var input = css(document.createElement("input"), { font: "inherit", padding: "8px 10px", minHeight: "44px",
                                                       border: "1px solid #6b7280", borderRadius: "8px",
                                                       width: "100%", maxWidth: "20em", boxSizing: "border-box" });
    input.id = id;
    input.type = type;
    input.autocomplete = autocomplete;
    input.maxLength = type === "email" ? 254 : 100;
    if (required) { input.required = true; input.setAttribute("aria-required", "true"); }
    wrap.appendChild(label);
    wrap.appendChild(input);
    if (hintText) {
      var hint = css(document.createElement("span"), { fontSize: "14px", color: "#4b5563" });
      hint.id = id + "-hint";
      hint.textContent = hintText;
      input.setAttribute("aria-describedby", hint.id);
      wrap.appendChild(hint);
    }
    return input;
  }

  /* ---- the lightbox ---- */
  var open = null;  // {overlay, iframe, opener, inerted, timer}

  function closeLightbox() {
    if (!open) return;
    var state = open;
    open = null;
    window.clearTimeout(state.timer);
    document.removeEventListener("keydown", state.onKey, true);
    state.overlay.parentNode && state.overlay.parentNode.removeChild(state.overlay);
    state.inerted.forEach(function (node) { node.inert = false; });
    document.body.style.overflow = state.overflow;
    if (state.opener) state.opener.focus();
  }

  function openLightbox(url, text, opener, host) {
    closeLightbox();
    var overlay = css(document.createElement("div"), {
      position: "fixed", inset: "0", zIndex: "2147483000", background: "rgba(17,24,39,.6)",
      display: "flex", alignItems: "center", justifyContent: "center", padding: "1rem"
    });
    var dialog = css(document.createElement("div"), {
      position: "relative", width: "100%", maxWidth: "480px", height: "92vh", maxHeight: "780px",
      background: "#fff", borderRadius: "14px", overflow: "hidden", boxShadow: "0 20px 50px rgba(0,0,0,.35)"
    });
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-label", text.dialog);
    var loading = css(document.createElement("p"), {
      position: "absolute", top: "45%", left: "0", right: "0", textAlign: "center", color: "#4b5563",
      font: "15px system-ui, sans-serif", margin: "0"
    });
    loading.textContent = text.loading;
    var close = css(document.createElement("button"), {
      position: "absolute", top: "8px", right: "8px", zIndex: "1", width: "40px", height: "40px",
      border: "0", borderRadius: "50%", background: "#f3f4f6", color: "#111827", font: "bold 22px/1 system-ui, sans-serif",
      cursor: "pointer"
    });
    close.type = "button";
    close.setAttribute("aria-label", text.close);
    close.textContent = "×";
    var iframe = css(document.createElement("iframe"), {
      position: "relative", width: "100%", height: "100%", border: "0", display: "block", background: "transparent"
    });
    iframe.title = text.dialog;
    iframe.src = url;
    iframe.setAttribute("allow", "payment");
    // Focus trap: Tab past the last element comes back to the first, and the reverse.
    function sentinel(onFocus) {
      var s = document.createElement("span");
      s.tabIndex = 0;
      s.addEventListener("focus", onFocus);
      return s;
    }
    var first = sentinel(function () { iframe.focus(); });
    var last = sentinel(function () { close.focus(); });
    dialog.appendChild(loading);
    dialog.appendChild(close);
    dialog.appendChild(iframe);
    overlay.appendChild(first);
    overlay.appendChild(dialog);
    overlay.appendChild(last);

    var inerted = [];
    Array.prototype.forEach.call(document.body.children, function (node) {
      if (node !== overlay && !node.inert && node.tagName !== "SCRIPT") { node.inert = true; inerted.push(node); }
    });
    var onKey = function (event) { if (event.key === "Escape") { event.preventDefault(); closeLightbox(); } };
    document.addEventListener("keydown", onKey, true);
    close.addEventListener("click", closeLightbox);
    overlay.addEventListener("click", function (event) { if (event.target === overlay) closeLightbox(); });
    open = { overlay: overlay, iframe: iframe, opener: opener, host: host, inerted: inerted, onKey: onKey,
             overflow: document.body.style.overflow, timer: null };
    document.body.style.overflow = "hidden";
    document.body.appendChild(overlay);
    close.focus();
  }

  window.addEventListener("message", function (event) {
    if (!open || event.origin !== BASE || event.source !== open.iframe.contentWindow) return;
    var data = event.data || {};
    if (data.source !== "payplatform-checkout") return;
    var host = open.host;
    if (data.type === "close" || data.type === "cancel") {
      closeLightbox();
    } else if (data.type === "return" && data.returnUrl) {
      window.location.assign(data.returnUrl);
    } else if (data.type === "result") {
      host.dispatchEvent(new CustomEvent("payplatform:result", { bubbles: true, detail: { state: data.state } }));
      if (data.state === "retry") return;  // the shopper may try again inside the lightbox
      var target = data.returnUrl;
      open.timer = window.setTimeout(function () {
        if (target) window.location.assign(target);
        else closeLightbox();
      }, 4000);
    }
  });

  /* ---- the button ---- */
  function render(el) {
    var key = el.getAttribute("data-key") || "";
    var language = languageOf(el);
    var text = TEXT[language];
    var amountAttr = (el.getAttribute("data-amount") || "").trim();
    var free = amountAttr === "free";
    var fixed = free ? null : parseInt(amountAttr, 10);
    var min = parseInt(el.getAttribute("data-min") || "100", 10);
    var max = parseInt(el.getAttribute("data-max") || "2000000", 10);
    var label = el.getAttribute("data-label");
    var uid = "ppb-" + Math.random().toString(36).slice(2, 9);

    var offered = frequenciesOf(el);
    var every = { month: text.everyMonth, year: text.everyYear };
    var recurringOffered = offered.some(function (value) { return value !== "once"; });

    while (el.firstChild) el.removeChild(el.firstChild);
    var wrap = css(document.createElement("div"), { display: "inline-flex", flexDirection: "column", gap: "6px",
                                                    font: "16px/1.4 system-ui, -apple-system, 'Segoe UI', sans-serif" });
    var radios = [];
    if (offered.length > 1) {  // the payer chooses how often; the first offered is ticked
      var group = css(document.createElement("fieldset"), { border: "0", padding: "0", margin: "0", minWidth: "0",
                                                           display: "flex", flexDirection: "column", gap: "2px" });
      var legend = css(document.createElement("legend"), { fontWeight: "600", padding: "0", marginBottom: "4px" });
      legend.textContent = text.often;
      group.appendChild(legend);
      offered.forEach(function (value, n) {
        var row = css(document.createElement("label"), { display: "flex", alignItems: "center", gap: "8px",
                                                        minHeight: "44px", cursor: "pointer" });
        var radio = css(document.createElement("input"), { width: "20px", height: "20px", margin: "0" });
        radio.type = "radio";
        radio.name = uid + "-frequency";
        radio.value = value;
        radio.checked = n === 0;
        row.appendChild(radio);
        row.appendChild(document.createTextNode(text[value] || value));
        group.appendChild(row);
        radios.push(radio);
      });
      wrap.appendChild(group);
    }
    function frequency() {
      for (var i = 0; i < radios.length; i++) if (radios[i].checked) return radios[i].value;
      return offered[0];
    }
    var input = null;
    if (free) {
      var fieldLabel = document.createElement("label");
      fieldLabel.htmlFor = uid + "-amount";
      fieldLabel.textContent = text.amount;
      css(fieldLabel, { fontWeight: "600" });
      input = css(document.createElement("input"), { font: "inherit", padding: "8px 10px", minHeight: "44px",
                                                     border: "1px solid #6b7280", borderRadius: "8px", maxWidth: "12em" });
      input.id = uid + "-amount";
      input.type = "text";
      input.inputMode = "decimal";
      input.autocomplete = "transaction-amount";
      var hint = css(document.createElement("span"), { fontSize: "14px", color: "#4b5563" });
      hint.id = uid + "-hint";
      hint.textContent = fill(text.range, { min: money(min, language), max: money(max, language) });
      input.setAttribute("aria-describedby", uid + "-hint " + uid + "-status");
      wrap.appendChild(fieldLabel);
      wrap.appendChild(input);
      wrap.appendChild(hint);
    }
    var askName = askFor(el, "name"), askEmail = askFor(el, "email");
    var firstName = null, lastName = null, email = null;
    if (askName) {
      firstName = field(wrap, uid + "-first-name", text.firstName, "text", "given-name", askName === "required", text);
      lastName = field(wrap, uid + "-last-name", text.lastName, "text", "family-name", askName === "required", text);
    }
    var emailBox = null;
    if (askEmail || recurringOffered) {
      emailBox = css(document.createElement("div"), { display: "flex", flexDirection: "column", gap: "6px" });
      wrap.appendChild(emailBox);
      email = field(emailBox, uid + "-email", text.email, "email", "email", askEmail === "required", text, text.receipt);
    }
    if (offered.length === 1 && every[offered[0]]) {  // only monthly, or only yearly: said, not asked
      var note = css(document.createElement("p"), { margin: "0", fontWeight: "600" });
      note.textContent = every[offered[0]].charAt(0).toUpperCase() + every[offered[0]].slice(1);
      wrap.appendChild(note);
    }
    // A monthly or yearly payment needs the email address: asked for (required) only then when the
    // button does not ask for it otherwise.
    function followFrequency() {
      if (!email) return;
      var needed = askEmail === "required" || frequency() !== "once";
      emailBox.hidden = !askEmail && !needed;
      emailBox.style.display = emailBox.hidden ? "none" : "flex";
      emailBox.querySelector("label").textContent = needed ? text.email : text.email + " " + text.optional;
      if (needed) { email.required = true; email.setAttribute("aria-required", "true"); }
      else { email.required = false; email.removeAttribute("aria-required"); }
    }
    radios.forEach(function (radio) { radio.addEventListener("change", followFrequency); });
    followFrequency();
    var colors = colorsOf(el);
    var button = css(document.createElement("button"), {
      font: "inherit", fontWeight: "650", minHeight: "44px", padding: "10px 22px", border: "0", borderRadius: "10px",
      background: colors.background, color: colors.text, cursor: "pointer", alignSelf: "flex-start"
    });
    button.type = "button";
    var amountText = free || !fixed ? "" : money(fixed, language);
    function labelButton() {  // "Pay €10.00", "Pay €10.00 every month"
      button.textContent = label || (amountText ? fill(text.pay, { amount: amountText }) : text.payFree);
      if (!label && amountText && every[frequency()]) button.textContent += " " + every[frequency()];
    }
    labelButton();
    radios.forEach(function (radio) { radio.addEventListener("change", labelButton); });
    var status = css(document.createElement("p"), { margin: "0", color: "#b42318", fontWeight: "600", fontSize: "14px" });
    status.id = uid + "-status";
    status.setAttribute("role", "status");
    wrap.appendChild(button);
    wrap.appendChild(status);
    el.appendChild(wrap);

    function refuse(message, inputs) {
      status.textContent = message;
      inputs.forEach(function (i) { i.setAttribute("aria-invalid", "true"); });
      if (inputs.length) inputs[0].focus();
    }

    var busy = false;
    button.addEventListener("click", function () {
      if (busy) return;
      status.textContent = "";
      [input, firstName, lastName, email].forEach(function (i) { if (i) i.removeAttribute("aria-invalid"); });
      var amount = free ? parseAmount(input.value) : fixed;
      if (!amount || amount < min || amount > max) {
        refuse(fill(text.invalid, { min: money(min, language), max: money(max, language) }), input ? [input] : []);
        return;
      }
      var names = firstName ? [firstName.value.trim(), lastName.value.trim()] : ["", ""];
      if (askName === "required" && (!names[0] || !names[1])) {
        refuse(text.needName, [firstName, lastName].filter(function (i, n) { return !names[n]; }));
        return;
      }
      var chosen = frequency();
      var address = email && !emailBox.hidden ? email.value.trim() : "";
      if (chosen !== "once" && !address) { refuse(text.needEmailRecurring, [email]); return; }
      if (askEmail === "required" && !address) { refuse(text.needEmail, [email]); return; }
      if (address && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address)) { refuse(text.badEmail, [email]); return; }
      var required = [];
      if (askName === "required") required.push("name");
      if (askEmail === "required") required.push("email");
      busy = true;
      button.setAttribute("aria-busy", "true");
      fetch(BASE + "/pay/button/" + encodeURIComponent(key) + "/", {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          amount: amount,
          description: el.getAttribute("data-description") || label || "",
          language: el.getAttribute("data-language") || "",  // none: the shopper's browser decides
          return_url: el.getAttribute("data-return-url") || window.location.href,
          first_name: names[0],
          last_name: names[1],
          email: address,
          required: required,
          frequencies: offered,
          frequency: chosen
        })
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (answer) {
        if (!answer.ok || !answer.body.payment_url) throw { shown: (answer.body && answer.body.message) || text.failed };
        if (window.innerWidth < SMALL_SCREEN) window.location.assign(answer.body.payment_url);
        else openLightbox(answer.body.payment_url, text, button, el);
      }).catch(function (error) {
        status.textContent = (error && error.shown) || text.failed;  // a network error or a refused origin
      }).then(function () {
        busy = false;
        button.removeAttribute("aria-busy");
      });
    });
  }

  function renderAll() {
    document.querySelectorAll("[data-payplatform-button]").forEach(render);
  }

  window.PayPlatformButton = { render: render, renderAll: renderAll, close: closeLightbox };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", renderAll);
  else renderAll();
})();
