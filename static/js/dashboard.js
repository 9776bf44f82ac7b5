// Dashboard shell: on phones the menu starts folded so the page content comes first.
// Without JavaScript the menu simply stays open.
(function () {
  "use strict";
  var nav = document.querySelector(".sidebar details.nav-toggle");
  if (nav && window.matchMedia && window.matchMedia("(max-width: 799px)").matches) {
    nav.open = false;
  }
})();

// Copy buttons: <button data-copy-target="id" data-copied="Copied" hidden> next to a read-only
// field or a code block, and an aria-live status (templates/dashboard/fragment_copy_button.html).
// Shown only here: without JavaScript the value stays selectable in its field.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-copy-target]");
  if (!buttons.length) return;

  function textOf(target) {
    return target.matches("input, textarea") ? target.value : target.textContent;
  }

  function select(target) {
    if (target.matches("input, textarea")) {
      target.focus();
      target.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(target);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function fallback(target) {
    select(target);
    try {
      return document.execCommand("copy");
    } catch (e) {
      return false;
    }
  }

  function announce(button, message) {
    var status = document.getElementById(button.getAttribute("data-copy-target") + "-copy-status");
    if (!status) return;
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 50);  // announced again on each click
    window.clearTimeout(button._copyTimer);
    button._copyTimer = window.setTimeout(function () { status.textContent = ""; }, 4000);
  }

  Array.prototype.forEach.call(buttons, function (button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = textOf(target);
      var done = function () { announce(button, button.getAttribute("data-copied")); };
      var failed = function () {
        if (fallback(target)) done();
        else announce(button, button.getAttribute("data-copy-failed"));
      };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, failed);
      else failed();
    });
  });
})();
