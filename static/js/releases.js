// Releases, live: a module released while its cohort's page is open shows as open on the
// timeline without a reload: its title becomes a link, its "Opens …" line says it is open,
// and staff lose the "Release now" control that no longer applies. The page gives each
// module's address (data-module-href) and marks the parts to change (data-module-state,
// data-release-control).
(function () {
  "use strict";
  var live = window.cohortLive;
  if (!live) { return; }

  live.socket.on("module_released", function (payload) {
    if (!payload) { return; }
    var item = document.querySelector(
      '[data-cohort-timeline="' + payload.cohort_id + '"] [data-module-id="' + payload.module_id + '"]');
    if (!item) { return; }
    item.className = "released";
    var title = item.querySelector(".module-title");
    var href = item.getAttribute("data-module-href");
    if (title && href && !title.querySelector("a")) {
      var link = document.createElement("a");
      link.href = href;
      link.textContent = payload.title;
      title.textContent = "";
      title.appendChild(link);
    }
    var state = item.querySelector("[data-module-state]");
    if (state) { state.textContent = "Open now"; }
    var controls = item.querySelectorAll("[data-release-control]");
    for (var i = 0; i < controls.length; i += 1) {
      controls[i].parentNode.removeChild(controls[i]);
    }
    // Released while the page was open: new to this reader, said in text, not colour alone.
    if (title && !item.querySelector(".marker-new")) {
      var marker = document.createElement("span");
      marker.className = "marker marker-new";
      marker.textContent = "New";
      title.insertAdjacentElement("afterend", marker);
    }
    live.announce("New module open: " + payload.title);
  });
})();
