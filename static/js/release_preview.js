// The launch form's release dates follow the start date and time zone as they change.
// The server computes them (the same schedule code as a launch) and sends the table's rows;
// the address comes from the page. Without JavaScript, "Preview dates" does the same.
(function () {
  "use strict";
  var section = document.querySelector("[data-release-dates-href]");
  if (!section || !window.fetch || !window.URLSearchParams) { return; }
  var form = section.closest("form");
  var rows = section.querySelector("[data-release-rows]");
  var status = section.querySelector("[role=status]");
  var day = form && form.elements.namedItem("starts_on");
  var zone = form && form.elements.namedItem("timezone");
  if (!rows || !status || !day || !zone) { return; }
  var latest = 0;

  function refresh() {
    if (!day.value || !zone.value) { return; }
    var ticket = latest += 1;
    var query = new URLSearchParams({ starts_on: day.value, timezone: zone.value });
    fetch(section.getAttribute("data-release-dates-href") + "?" + query.toString(), {
      headers: { Accept: "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (ticket !== latest) { return; }  // an older answer arriving late
      if (!result.ok) {
        var fields = (result.body.error && result.body.error.fields) || {};
        status.textContent = fields.starts_on || fields.timezone ||
          "These dates could not be computed; use “Preview dates”.";
        return;
      }
      rows.innerHTML = result.body.html;  // escaped by the server's template
      status.textContent = "For a start on " + result.body.starts_on + " in " +
        result.body.timezone + ". Nothing is launched until you press “Launch cohort”.";
    }).catch(function () {
      if (ticket === latest) {
        status.textContent = "No connection: use “Preview dates” to see the dates.";
      }
    });
  }

  day.addEventListener("change", refresh);
  zone.addEventListener("change", refresh);
  refresh();
})();
