// The live connection every signed-in page shares: one Socket.IO connection, the rooms the
// page names, and a polite announcer for screen readers. Each live feature has its own
// file (notifications.js, releases.js…) that listens through window.cohortLive.
// Elements with data-live-room="cohort:ID" ask to join that room; the server checks.
(function () {
  "use strict";
  if (typeof io !== "function") { return; }

  // Messages that come together (a new post and the notice of the same reply) are said
  // together: the second would otherwise replace the first before it is read.
  var announcer = document.getElementById("live-announcer");
  var waiting = [];
  function announce(text) {
    if (!announcer || !text) { return; }
    waiting.push(text);
    if (waiting.length > 1) { return; }
    announcer.textContent = "";
    window.setTimeout(function () {
      announcer.textContent = waiting.join(" ");
      waiting = [];
    }, 50);
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
})();
