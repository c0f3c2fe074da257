// The review board, live: when a submission, allocation, review, rating or hold of the
// assignment changes, the board fetches its own page again and swaps in the new lists.
//
// The page gives everything: the room (data-live-room="assignment:ID", joined by live.js
// on every connect; only the staff are admitted), the assignment (data-assignment-id) and
// the board's address (data-board-url). The event names nobody; the page fetched is the
// one the server renders for this facilitator.
//
// A facilitator typing a reason to hide a review, or choosing whom to assign, is never
// interrupted: while a form of the board is being filled in, the page says the board has
// changed and offers a reload instead of swapping.
(function () {
  "use strict";
  var live = window.cohortLive;
  var board = document.querySelector(".review-board[data-board-url]");
  if (!live || !board || !window.fetch || !window.DOMParser) { return; }
  var assignmentId = parseInt(board.getAttribute("data-assignment-id"), 10);
  var url = board.getAttribute("data-board-url");
  var region = board.querySelector("[data-board-region]");
  var changed = board.querySelector("[data-board-changed]");
  var fetching = false;
  var again = false;

  function typing() {
    var fields = region.querySelectorAll("textarea, select");
    return Array.prototype.some.call(fields, function (field) {
      return field.value !== "" || field === document.activeElement;
    });
  }

  function refresh() {
    if (fetching) { again = true; return; }
    if (typing()) { changed.hidden = false; return; }
    fetching = true;
    window.fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, "text/html")
          .querySelector(".review-board [data-board-region]");
        if (!fresh) { return; }
        if (typing()) { changed.hidden = false; return; }
        region.innerHTML = fresh.innerHTML;
        board.setAttribute("data-board-updated", String(Date.now()));
        live.announce("Board updated");
      })
      .catch(function () { changed.hidden = false; })
      .then(function () {
        fetching = false;
        if (again) { again = false; refresh(); }
      });
  }

  live.socket.on("review_status", function (payload) {
    if (payload && payload.assignment_id === assignmentId) { refresh(); }
  });
})();
