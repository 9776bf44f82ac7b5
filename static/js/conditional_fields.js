/* Fieldsets shown only when they apply: <fieldset data-show-when="amount_type=free"> (a radio group
 * or select with that value) or data-show-when="ask_quantity" (a ticked checkbox), inside a
 * <form data-conditional-fields>. A fieldset that does not apply is hidden and disabled, so its
 * fields are neither shown nor sent (the server ignores them anyway). Without JavaScript every
 * fieldset stays, under a heading that says when it applies. */
(function () {
  "use strict";

  function current(form, name) {
    var field = form.elements[name];
    if (!field) return "";
    if (field.type === "checkbox") return field.checked ? field.value || "on" : "";
    if (field.length !== undefined && field.tagName !== "SELECT") {  // a radio group
      for (var i = 0; i < field.length; i++) if (field[i].checked) return field[i].value;
      return "";
    }
    return field.value;
  }

  function applies(form, condition) {
    var parts = condition.split("=");
    var value = current(form, parts[0]);
    return parts.length > 1 ? value === parts.slice(1).join("=") : value !== "";
  }

  function update(form) {
    var fieldsets = form.querySelectorAll("fieldset[data-show-when]");
    Array.prototype.forEach.call(fieldsets, function (fieldset) {
      var shown = applies(form, fieldset.getAttribute("data-show-when"));
      fieldset.hidden = !shown;
      fieldset.disabled = !shown;
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-conditional-fields]"), function (form) {
    form.addEventListener("change", function () { update(form); });
    update(form);
  });
})();
