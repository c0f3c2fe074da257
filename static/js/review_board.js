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
// changed and offers a reload instead of swapping. "Board updated" is said through the
// page's polite live region.
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

  // A button that had the focus (say "Reassign", just tabbed to) keeps it when its form
  // is still on the board after the swap: the same address, work and words.
  function keyOf(button) {
    var work = button.form.querySelector("input[name=submission_id]");
    return [button.form.getAttribute("action"), work ? work.value : "",
            button.textContent].join(" ");
  }

  function focusKey() {
    var active = document.activeElement;
    if (!active || !region.contains(active) || !active.form) { return null; }
    return keyOf(active);
  }

  function refocus(key) {
    if (!key) { return; }
    var match = Array.prototype.find.call(region.querySelectorAll("form button"),
                                          function (button) { return keyOf(button) === key; });
    if (match) { match.focus(); }
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
        var focused = focusKey();
        region.innerHTML = fresh.innerHTML;
        refocus(focused);
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
