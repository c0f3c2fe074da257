// Copy buttons: <button data-copy-target="ID"> copies the value of the field with that id.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) { return; }
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    if (!field) { return; }
    var original = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", original);
    function done(text) {
      button.textContent = text;
      var announcer = document.getElementById("live-announcer");
      if (announcer) { announcer.textContent = text; }
      window.setTimeout(function () { button.textContent = original; }, 2500);
    }
    field.select();
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(
        function () { done("Copied"); },
        function () { done("Press Ctrl+C to copy"); });
    } else {
      done("Press Ctrl+C to copy");
    }
  });
})();
