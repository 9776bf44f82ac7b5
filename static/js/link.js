/* The payment link's page (templates/checkout/link.html): when the shopper chooses a monthly or
 * yearly payment, the quantity (one-off payments only) is hidden, and the email address asked for
 * recurring payments only (data-email-for-recurring) is shown and required; for a one-off payment
 * the reverse. Without JavaScript every field stays, with a hint that says when it applies (the
 * server ignores the quantity of a recurring choice). */
(function () {
  "use strict";
  var form = document.querySelector("form[data-link-form]");
  if (!form) return;
  var radios = form.querySelectorAll("input[name=frequency]");
  if (!radios.length) return;  // one frequency only: nothing to follow

  function chosen() {
    for (var i = 0; i < radios.length; i++) if (radios[i].checked) return radios[i].value;
    return "once";
  }

  function show(name, shown, required) {
    var wrap = form.querySelector("[data-field=" + name + "]");
    if (!wrap) return;
    wrap.hidden = !shown;
    wrap.querySelectorAll("input, select").forEach(function (input) {
      input.disabled = !shown;
      if (required !== undefined) {
        if (required) input.setAttribute("required", ""); else input.removeAttribute("required");
      }
    });
  }

  function update() {
    var recurring = chosen() !== "once";
    show("quantity", !recurring);
    if (form.hasAttribute("data-email-for-recurring")) show("email", recurring, recurring);
  }

  Array.prototype.forEach.call(radios, function (radio) { radio.addEventListener("change", update); });
  update();
})();
