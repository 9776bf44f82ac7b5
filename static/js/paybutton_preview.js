/* Dashboard, pay button page: the snippet and the preview follow the form as it changes, and the
 * allowed-websites form carries the options being tried (its hidden data-carry fields), so that
 * saving the websites saves the button shown in the snippet too. */
(function () {
  "use strict";
  var form = document.getElementById("button-builder");
  var preview = document.getElementById("button-preview");
  var snippet = document.getElementById("snippet");
  if (!form) return;

  function cents(text) {
    var cleaned = (text || "").replace(/[\s\u00a0\u202f€]/g, "");
    var m = /^(\d{1,7})(?:[.,](\d{1,2}))?$/.exec(cleaned);
    return m ? parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10) : null;
  }

  function value(name) {
    var field = form.elements[name];
    if (!field) return "";
    if (field.length !== undefined && field.tagName !== "SELECT") {  // a radio or checkbox group
      var picked = [];
      for (var i = 0; i < field.length; i++) if (field[i].checked) picked.push(field[i].value);
      return picked.join(",");  // checkboxes: "once,month", as data-frequencies and the carried field write it
    }
    return field.value;
  }

  function attributes(key) {
    var list = [["data-key", key]];
    if (value("amount_type") === "free") {
      list.push(["data-amount", "free"]);
      if (cents(value("min_amount"))) list.push(["data-min", String(cents(value("min_amount")))]);
      if (cents(value("max_amount"))) list.push(["data-max", String(cents(value("max_amount")))]);
    } else {
      list.push(["data-amount", String(cents(value("amount")) || 1000)]);
    }
    ["label", "description", "language"].forEach(function (name) {
      if (value(name)) list.push(["data-" + name, value(name)]);
    });
    [["collect_name", "data-name"], ["collect_email", "data-email"]].forEach(function (pair) {
      var ask = value(pair[0]);
      if (ask === "optional" || ask === "required") list.push([pair[1], ask]);
    });
    var often = value("frequencies");
    if (often && often !== "once") list.push(["data-frequencies", often]);  // none: one-off (older snippets)
    if (form.dataset.color) list.push(["data-color", form.dataset.color]);
    if (form.dataset.textColor) list.push(["data-text-color", form.dataset.textColor]);
    return list;
  }

  function escape(text) {
    return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  var last = "";

  function carry() {
    var fields = document.querySelectorAll("#origins-form input[data-carry]");
    Array.prototype.forEach.call(fields, function (field) {
      field.value = value(field.getAttribute("data-carry"));
    });
  }

  function update() {
    carry();
    // `change` follows `input` when the field loses focus (e.g. to the preview button): rendering
    // the same button again would take it away from under the pointer.
    var signature = JSON.stringify(attributes(""));
    if (signature === last) return;
    last = signature;
    if (snippet && form.dataset.key) {
      var attrs = attributes(form.dataset.key).map(function (pair) { return " " + pair[0] + "=\"" + escape(pair[1]) + "\""; });
      snippet.textContent = "<div data-payplatform-button" + attrs.join("") + "></div>\n<script src=\"" +
        escape(form.dataset.script) + "\" async></script>";
    }
    if (preview && window.PayPlatformButton) {
      var key = preview.getAttribute("data-key");
      Array.prototype.slice.call(preview.attributes).forEach(function (attr) {
        if (attr.name.indexOf("data-") === 0 && attr.name !== "data-payplatform-button") preview.removeAttribute(attr.name);
      });
      attributes(key).forEach(function (pair) { preview.setAttribute(pair[0], pair[1]); });
      window.PayPlatformButton.render(preview);
    }
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
})();
