// Announcements, live: an announcement posted while its cohort's page (or its list of
// announcements) is open appears there without a reload, and is read out politely. The
// page marks where it goes (data-announcements="COHORT_ID") and whether that place shows
// one featured announcement or the whole list (data-announcements-mode). The HTML of the
// body was cleaned on the server when it was written, as the page's own copy was.
(function () {
  "use strict";
  var live = window.cohortLive;
  if (!live) { return; }

  function card(payload, headingTag) {
    var article = document.createElement("article");
    article.className = "announcement";
    article.id = "announcement-" + payload.id;
    var header = document.createElement("header");
    var heading = document.createElement(headingTag);
    heading.className = "announcement-title";
    heading.textContent = payload.title;
    var meta = document.createElement("p");
    meta.className = "card-meta";
    meta.appendChild(document.createTextNode("By " + payload.author_name + " · "));
    var time = document.createElement("time");
    time.setAttribute("datetime", payload.created_at);
    time.textContent = "just now";
    meta.appendChild(time);
    header.appendChild(heading);
    header.appendChild(meta);
    var body = document.createElement("div");
    body.className = "announcement-body";
    body.innerHTML = payload.body_html;
    article.appendChild(header);
    article.appendChild(body);
    return article;
  }

  live.socket.on("announcement_posted", function (payload) {
    if (!payload) { return; }
    var place = document.querySelector('[data-announcements="' + payload.cohort_id + '"]');
    if (!place || document.getElementById("announcement-" + payload.id)) { return; }
    var empty = place.querySelector("[data-announcements-empty]");
    if (empty) { empty.parentNode.removeChild(empty); }
    if (place.getAttribute("data-announcements-mode") === "list") {
      place.insertBefore(card(payload, "h2"), place.firstChild);
    } else {
      // The cohort page features one: a pinned one stays first, an unpinned one is replaced.
      var shown = place.querySelector(".announcement");
      var fresh = card(payload, "h3");
      if (shown && shown.classList.contains("announcement-pinned")) {
        shown.insertAdjacentElement("afterend", fresh);
      } else {
        if (shown) { shown.parentNode.removeChild(shown); }
        var heading = place.querySelector("h2");
        if (heading) { heading.insertAdjacentElement("afterend", fresh); }
        else { place.insertBefore(fresh, place.firstChild); }
      }
    }
    live.announce("New announcement: " + payload.title);
  });
})();
