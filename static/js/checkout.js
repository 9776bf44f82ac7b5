/* Hosted payment pages: progressive enhancement only, no dependency. Every page works without it.
 *
 * - card form: number grouping, brand shown as typed, Luhn / expiry / security-code checks with the
 *   server's own (localized) messages next to the fields, tied with aria-describedby;
 * - every form: one submission only (a second click or Enter does nothing);
 * - inside the pay button's lightbox (an iframe): Escape and "cancel" close it, and the outcome is
 *   told to the embedding page, which takes the shopper back to the shop.
 */
(function () {
  "use strict";

  var framed = false;
  try { framed = window.self !== window.top; } catch (e) { framed = true; }
  if (framed) document.documentElement.classList.add("framed");

  function tellParent(message) {
    if (!framed) return;
    message.source = "payplatform-checkout";
    // No secret in these messages (an outcome and the shop's own return URL); only the
    // merchant's allowed origins may frame this page (CSP frame-ancestors).
    window.parent.postMessage(message, "*");
  }

  /* ---- card checks: the same rules as payments/cards.py ---- */
  var BRANDS = [
    ["American Express", /^3[47]/, [15]],
    ["Diners Club", /^3(?:0[0-5]|[689])/, [14, 16, 19]],
    ["JCB", /^35(?:2[89]|[3-8])/, [16, 17, 18, 19]],
    ["Discover", /^6(?:011|5|4[4-9])/, [16, 19]],
    ["Visa", /^4/, [13, 16, 19]],
    ["Mastercard", /^(?:5[1-5]|2(?:2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720))/, [16]],
    ["Maestro", /^(?:5[06-9]|6\d)/, [12, 13, 14, 15, 16, 17, 18, 19]]
  ];

  function digitsOf(value) { return (value || "").replace(/\D/g, ""); }

  function brandOf(number) {
    for (var i = 0; i < BRANDS.length; i++) {
      if (BRANDS[i][1].test(number)) return BRANDS[i];
    }
    return null;
  }

  function luhn(number) {
    var sum = 0, double = false;
    for (var i = number.length - 1; i >= 0; i--) {
      var d = number.charCodeAt(i) - 48;
      if (double) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
      double = !double;
    }
    return sum % 10 === 0;
  }

  function numberValid(raw) {
    var cleaned = (raw || "").replace(/[\s-]/g, "");
    if (!/^\d+$/.test(cleaned) || cleaned.length < 12 || cleaned.length > 19 || !luhn(cleaned)) return false;
    var brand = brandOf(cleaned);
    return !brand || brand[2].indexOf(cleaned.length) !== -1;
  }

  function parseExpiry(raw) {
    var m = /^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/.exec(raw || "");
    if (!m) return null;
    var month = parseInt(m[1], 10), year = parseInt(m[2], 10);
    if (year < 100) year += 2000;
    if (month < 1 || month > 12) return null;
    return [month, year];
  }

  function groups(digits, brand) {
    var sizes = brand && brand[0] === "American Express" ? [4, 6, 5] : [4, 4, 4, 4, 3];
    var out = [], at = 0;
    for (var i = 0; i < sizes.length && at < digits.length; i++) {
      out.push(digits.slice(at, at + sizes[i]));
      at += sizes[i];
    }
    return out.join(" ");
  }

  /* Reformat an input's value and keep the caret after the same number of digits. */
  function reformat(input, format) {
    var caret = input.selectionStart == null ? input.value.length : input.selectionStart;
    var digitsBefore = digitsOf(input.value.slice(0, caret)).length;
    var next = format(input.value);
    if (next === input.value) return;
    input.value = next;
    var position = 0, seen = 0;
    while (position < next.length && seen < digitsBefore) {
      if (/\d/.test(next[position])) seen++;
      position++;
    }
    if (document.activeElement === input && input.setSelectionRange) input.setSelectionRange(position, position);
  }

  /* ---- messages next to the fields ---- */
  function errorOf(input) { return document.getElementById(input.id + "_error"); }

  function describe(input, withError) {
    var ids = [];
    if (withError) ids.push(input.id + "_error");
    if (document.getElementById(input.id + "_hint")) ids.push(input.id + "_hint");
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
  }

  function showError(input, message) {
    var holder = errorOf(input);
    var field = input.closest(".field");
    if (message) {
      if (holder) { holder.textContent = message; holder.hidden = false; }
      input.setAttribute("aria-invalid", "true");
      if (field) field.classList.add("has-error");
      describe(input, true);
    } else {
      if (holder) { holder.textContent = ""; holder.hidden = true; }
      input.removeAttribute("aria-invalid");
      if (field) field.classList.remove("has-error");
      describe(input, false);
    }
  }

  function enhanceCardForm(form) {
    var msg = form.dataset;
    var number = form.querySelector("[data-card-number]");
    var expiry = form.querySelector("[data-card-expiry]");
    var cvc = form.querySelector("[data-card-cvc]");
    var holder = form.querySelector("input[name=cardholder]");
    var brandLabel = form.querySelector("[data-card-brand]");
    var summary = form.querySelector("[data-form-summary]");
    if (!number || !expiry || !cvc) return;

    function currentBrand() { return brandOf(digitsOf(number.value)); }

    function check(input) {
      var value = input.value.trim();
      // A card kept by the server (its last four digits shown): an empty number means "that card".
      if (!value) return input === number && "keptCard" in form.dataset ? "" : msg.msgRequired;
      if (input === number) return numberValid(value) ? "" : msg.msgNumber;
      if (input === expiry) {
        var parsed = parseExpiry(value);
        if (!parsed) return msg.msgExpiryFormat;
        var now = new Date();
        if (parsed[1] < now.getFullYear() || (parsed[1] === now.getFullYear() && parsed[0] < now.getMonth() + 1)) {
          return msg.msgExpired;
        }
        return "";
      }
      if (input === cvc) {
        // As the server: 4 digits for American Express, 3 otherwise, 3 or 4 while the number is wrong.
        var four = currentBrand() && currentBrand()[0] === "American Express";
        var pattern = !numberValid(number.value) ? /^\d{3,4}$/ : four ? /^\d{4}$/ : /^\d{3}$/;
        return pattern.test(value) ? "" : (four ? msg.msgCvcFour : msg.msgCvc);
      }
      return "";
    }

    number.addEventListener("input", function () {
      reformat(number, function (value) {
        var digits = digitsOf(value).slice(0, 19);
        return groups(digits, brandOf(digits));
      });
      var brand = currentBrand();
      if (brandLabel) brandLabel.textContent = brand && digitsOf(number.value).length >= 2 ? brand[0] : "";
      if (number.getAttribute("aria-invalid") === "true" && !check(number)) showError(number, "");
    });
    expiry.addEventListener("input", function (event) {
      var deleting = event.inputType && event.inputType.indexOf("delete") === 0;
      reformat(expiry, function (value) {
        var digits = digitsOf(value).slice(0, 6);
        if (digits.length === 1 && digits > "1") digits = "0" + digits;
        if (digits.length > 4) digits = digits.slice(0, 2) + digits.slice(4);  // 12/2029 typed in full
        if (digits.length >= 3) return digits.slice(0, 2) + "/" + digits.slice(2, 4);
        if (digits.length === 2 && !deleting) return digits + "/";
        return digits;
      });
      if (expiry.getAttribute("aria-invalid") === "true" && !check(expiry)) showError(expiry, "");
    });
    cvc.addEventListener("input", function () {
      reformat(cvc, function (value) { return digitsOf(value).slice(0, 4); });
      if (cvc.getAttribute("aria-invalid") === "true" && !check(cvc)) showError(cvc, "");
    });
    [holder, number, expiry, cvc].forEach(function (input) {
      if (!input) return;
      input.addEventListener("blur", function (event) {
        // Leaving for the pay button: the submit check runs at once, and a message appearing now
        // would move the button away from under the pointer.
        var next = event.relatedTarget;
        if (next && next.form === form && next.type === "submit") return;
        if (input.value.trim() || input.getAttribute("aria-invalid") === "true") showError(input, check(input));
      });
    });

    form.addEventListener("submit", function (event) {
      var first = null;
      [holder, number, expiry, cvc].forEach(function (input) {
        if (!input) return;
        var problem = check(input);
        showError(input, problem);
        if (problem && !first) first = input;
      });
      if (first) {
        event.preventDefault();
        event.stopImmediatePropagation();  // not a submission: the once-guard must not engage
        if (summary) { summary.textContent = msg.msgSummary; summary.hidden = false; }
        first.focus();
      } else if (summary) {
        summary.hidden = true;
      }
    });
  }

  /* ---- one submission per form ---- */
  function guardOnce(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitted === "1") { event.preventDefault(); return; }
      form.dataset.submitted = "1";
      var button = event.submitter || form.querySelector("button[type=submit], button:not([type])");
      // Not `disabled`: a disabled submitter would drop its own name=value from the request.
      form.querySelectorAll("button").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
      if (button) {
        button.setAttribute("aria-busy", "true");
        if (button.dataset.busyLabel) {
          button.dataset.idleLabel = button.innerHTML;
          button.textContent = button.dataset.busyLabel;
        }
      }
      // Other forms of the page (a saved card and the card form) must not start a second attempt.
      document.querySelectorAll("form[data-once]").forEach(function (other) { other.dataset.submitted = "1"; });
    });
  }

  function resetOnce() {
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      delete form.dataset.submitted;
      form.querySelectorAll("button").forEach(function (b) {
        b.removeAttribute("aria-disabled");
        b.removeAttribute("aria-busy");
        if (b.dataset.idleLabel) { b.innerHTML = b.dataset.idleLabel; delete b.dataset.idleLabel; }
      });
    });
  }

  function start() {
    document.querySelectorAll("form[data-card-form]").forEach(enhanceCardForm);
    document.querySelectorAll("form[data-once]").forEach(guardOnce);

    var outcome = document.querySelector("[data-outcome]");
    if (outcome) {
      tellParent({ type: "result", state: outcome.dataset.outcome, returnUrl: outcome.dataset.returnUrl || null });
    } else {
      tellParent({ type: "page", path: window.location.pathname });
    }
    if (framed) {
      document.querySelectorAll("[data-cancel]").forEach(function (link) {
        link.addEventListener("click", function (event) {
          event.preventDefault();
          tellParent({ type: "cancel" });
        });
      });
      document.querySelectorAll("[data-return]").forEach(function (link) {
        link.addEventListener("click", function (event) {
          event.preventDefault();
          tellParent({ type: "return", returnUrl: link.href });
        });
      });
      document.addEventListener("keydown", function (event) {
        if (event.key === "Escape") tellParent({ type: "close" });
      });
    }
  }

  // Back/forward cache: a restored page must accept a new submission.
  window.addEventListener("pageshow", function (event) { if (event.persisted) resetOnce(); });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
