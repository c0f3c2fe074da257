// The invitation page's time zone: pre-select the browser's own zone when the list has it.
// Without JavaScript the select keeps the zone the page chose (the cohort's, or UTC); once
// the person has picked one and the form comes back with an error, their choice stays.
(function () {
  "use strict";
  var select = document.querySelector("select[data-browser-timezone]");
  if (!select || !window.Intl || !Intl.DateTimeFormat) { return; }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) { return; }
  for (var i = 0; i < select.options.length; i += 1) {
    if (select.options[i].value === zone) {
      select.value = zone;
      return;
    }
  }
})();
