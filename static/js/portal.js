/* Country Partnership Portal: small page behaviour, no inline script (CSP). */
(function () {
  "use strict";
  function ready() {
    /* A form came back with errors: move focus to the summary that links to each field. */
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
