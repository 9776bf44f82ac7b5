/* The dashboard's API reference: Swagger UI (drf-spectacular-sidecar's static copy) rendering our
 * OpenAPI schema, started here rather than by an inline script (strict CSP: script-src 'self').
 *
 * Read-only: "Try it out" is switched off, so that nobody types a secret key into a web page
 * (secret keys belong on the merchant's server; the curl examples above show how to call the API).
 */
(function () {
  "use strict";

  function start() {
    var holder = document.getElementById("api-reference");
    if (!holder || typeof window.SwaggerUIBundle !== "function") return;
    var schemaUrl = holder.dataset.schemaUrl;
    var fallback = holder.querySelector("[data-api-reference-fallback]");
    if (fallback) fallback.hidden = true;
    window.SwaggerUIBundle({
      url: schemaUrl,
      domNode: holder,
      deepLinking: true,
      docExpansion: "list",
      defaultModelsExpandDepth: 0,
      supportedSubmitMethods: [],
      tryItOutEnabled: false,
      validatorUrl: null,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
