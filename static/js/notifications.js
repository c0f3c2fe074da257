// Notifications, live: the unread count in the header follows new and read notices, and
// each new notice is announced to screen readers.
(function () {
  "use strict";
  var live = window.cohortLive;
  if (!live) { return; }

  var badge = document.querySelector("[data-unread-count]");
  function setUnread(count) {
    if (!badge) { return; }
    badge.setAttribute("data-unread-count", String(count));
    badge.firstChild.textContent = String(count);
    badge.hidden = count < 1;
  }
  live.socket.on("notification", function (payload) {
    if (!payload) { return; }
    if (typeof payload.unread === "number") {
      setUnread(payload.unread);
    } else if (badge) {
      setUnread(parseInt(badge.getAttribute("data-unread-count") || "0", 10) + 1);
    }
    if (payload.message) { live.announce(payload.message); }
  });
})();
