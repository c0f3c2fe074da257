// Live updates: one Socket.IO connection per page, rooms named by the page.
// Elements with data-live-room="cohort:ID" ask to join that room; the server checks.
(function () {
  "use strict";
  if (typeof io !== "function") { return; }

  var announcer = document.getElementById("live-announcer");
  function announce(text) {
    if (!announcer || !text) { return; }
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  var rooms = Array.prototype.map.call(
    document.querySelectorAll("[data-live-room]"),
    function (el) { return el.getAttribute("data-live-room"); }
  );

  var socket = io({ transports: ["websocket", "polling"] });
  window.cohortLive = { socket: socket, announce: announce };

  socket.on("connect", function () {
    document.documentElement.setAttribute("data-live", "connected");
    rooms.forEach(function (room) { socket.emit("join", { room: room }); });
  });
  socket.on("disconnect", function () {
    document.documentElement.setAttribute("data-live", "disconnected");
  });
  // A released module becomes a link on the cohort's timeline without a reload.
  socket.on("module_released", function (payload) {
    if (!payload) { return; }
    var item = document.querySelector(
      '[data-cohort-timeline="' + payload.cohort_id + '"] [data-module-id="' + payload.module_id + '"]');
    if (!item) { return; }
    item.className = "released";
    var title = item.querySelector(".module-title");
    if (title && !title.querySelector("a")) {
      var link = document.createElement("a");
      link.href = "/cohorts/" + payload.cohort_id + "/modules/" + payload.module_id;
      link.textContent = payload.title;
      title.textContent = "";
      title.appendChild(link);
    }
    // Released while the page was open: new to this reader, said in text, not colour alone.
    if (title && !item.querySelector(".marker-new")) {
      var marker = document.createElement("span");
      marker.className = "marker marker-new";
      marker.textContent = "New";
      title.insertAdjacentElement("afterend", marker);
    }
    announce("New module open: " + payload.title);
  });

  var badge = document.querySelector("[data-unread-count]");
  function setUnread(count) {
    if (!badge) { return; }
    badge.setAttribute("data-unread-count", String(count));
    badge.firstChild.textContent = String(count);
    badge.hidden = count < 1;
  }
  socket.on("notification", function (payload) {
    if (!payload) { return; }
    if (typeof payload.unread === "number") {
      setUnread(payload.unread);
    } else if (badge) {
      setUnread(parseInt(badge.getAttribute("data-unread-count") || "0", 10) + 1);
    }
    if (payload.message) { announce(payload.message); }
  });
})();
