// Dashboard shell: on phones the menu starts folded so the page content comes first.
// Without JavaScript the menu simply stays open.
(function () {
  "use strict";
  var nav = document.querySelector(".sidebar details.nav-toggle");
  if (nav && window.matchMedia && window.matchMedia("(max-width: 799px)").matches) {
    nav.open = false;
  }
})();
