// Threads, live: posts written, edited or hidden elsewhere, the "peers have posted" count
// and stage changes reach an open thread page; what people type is kept as a draft.
//
// The page gives everything: the thread (data-thread-id on .thread-page, whose
// data-live-room live.js joins on every connect, reconnects included), the draft address
// (data-draft-url), a <template> of a post and one of a reply form, rendered by the server
// with this page's forms and CSRF token. The templates' addresses and ids carry a
// placeholder id (data-placeholder-id) that becomes the post's id: no address is built here.
//
// Replies: each top-level post links to its reply page (which works without this script);
// following the link puts the reply form under the post instead, on this page.
//
// The reply page loads this script too, for its drafts; it has no live room, so nothing
// live happens there.
//
// Catch-up after a lost connection: events sent while the socket was down are not sent
// again, so after a reconnect the page asks the API (data-thread-url, data-posts-url) for
// the thread and its posts as this viewer may see them, adds the posts it lacks and
// updates the others in place, exactly as the events would have. Forms are left alone, so
// a reply being typed is never lost. If that fails, the page offers a reload.
(function () {
  "use strict";
  var page = document.querySelector(".thread-page[data-thread-id]");
  if (!page) { return; }
  var threadId = parseInt(page.getAttribute("data-thread-id"), 10);

  // --- drafts: saved a second after the last keystroke ------------------------------------
  var draftUrl = page.getAttribute("data-draft-url");
  var tokenMeta = document.querySelector("meta[name=csrf-token]");
  var DRAFT_DELAY = 1000;

  function saveDraft(textarea) {
    var status = textarea.parentNode.querySelector("[data-draft-status]");
    var parentId = parseInt(textarea.getAttribute("data-draft-parent"), 10) || null;
    function say(text) { if (status) { status.textContent = text; } }
    window.fetch(draftUrl, {
      method: "PUT",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": tokenMeta ? tokenMeta.getAttribute("content") : ""
      },
      body: JSON.stringify({ body: textarea.value, parent_id: parentId })
    }).then(function (response) {
      say(response.ok ? "Draft saved." : "Draft not saved; your text is still here.");
    }, function () {
      say("Draft not saved (offline); your text is still here.");
    });
  }

  if (draftUrl && window.fetch) {
    page.addEventListener("input", function (event) {
      var textarea = event.target;
      if (!textarea.matches || !textarea.matches("textarea[data-draft-parent]")) { return; }
      window.clearTimeout(textarea.draftTimer);
      textarea.draftTimer = window.setTimeout(function () { saveDraft(textarea); }, DRAFT_DELAY);
    });
    // Posting removes the draft on the server: no autosave may follow and bring it back.
    page.addEventListener("submit", function (event) {
      var textarea = event.target.querySelector("textarea[data-draft-parent]");
      if (textarea) { window.clearTimeout(textarea.draftTimer); }
    });
  }

  // --- templates: a copy with the placeholder id swapped for a post's ---------------------
  function fromTemplate(template, id, selector) {
    if (!template) { return null; }
    var placeholder = template.getAttribute("data-placeholder-id");
    var fragment = template.content.cloneNode(true);
    Array.prototype.forEach.call(fragment.querySelectorAll("*"), function (element) {
      Array.prototype.forEach.call(element.attributes, function (attribute) {
        if (attribute.value.indexOf(placeholder) !== -1) {
          element.setAttribute(attribute.name, attribute.value.split(placeholder).join(String(id)));
        }
      });
    });
    return fragment.querySelector(selector);
  }

  // --- replies: "Reply" opens the reply form under the post --------------------------------
  var replyTemplate = page.querySelector("template[data-reply-template]");
  if (replyTemplate) {
    page.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[data-reply-to]") : null;
      if (!link || event.defaultPrevented || event.button !== 0 || event.ctrlKey ||
          event.metaKey || event.shiftKey || event.altKey) { return; }
      var form = fromTemplate(replyTemplate, link.getAttribute("data-reply-to"), "form");
      if (!form) { return; }
      event.preventDefault();
      link.parentNode.replaceChild(form, link);
      form.querySelector("textarea").focus();
    });
  }

  // --- live events ------------------------------------------------------------------------
  var live = window.cohortLive;
  if (!live || !page.hasAttribute("data-live-room")) { return; }
  var socket = live.socket;
  var zone = page.getAttribute("data-viewer-zone") || undefined;

  function slot(article, name) {
    // A post's own slots come before its replies, so the first match is its own.
    return article.querySelector("[data-slot=" + name + "]");
  }
  function show(element, visible) { if (element) { element.hidden = !visible; } }
  function setText(element, text) { if (element) { element.textContent = text; } }

  function kindLabel(post) {
    if (post.kind === "reply") { return "Reply"; }
    if (post.kind === "synthesis") { return post.author.is_staff ? "Synthesis" : "Take-away"; }
    return post.author.is_staff ? "Note" : "Reflection";
  }

  function formatTime(iso) {
    var date = new Date(iso);
    try {
      return date.toLocaleString("en-GB", {
        timeZone: zone, weekday: "short", day: "2-digit", month: "short",
        hour: "2-digit", minute: "2-digit", timeZoneName: "short"
      });
    } catch (error) {
      return date.toLocaleString();
    }
  }

  function setBody(article, post) {
    var body = slot(article, "body");
    if (!body) { return; }
    if (post.body_html !== null && post.body_html !== undefined) {
      // Cleaned by the server when it was written (app/sanitize.py), as on the page.
      body.innerHTML = post.body_html;
    } else {
      body.textContent = "";
      var placeholder = document.createElement("p");
      placeholder.className = "placeholder";
      placeholder.textContent = post.placeholder || "";
      body.appendChild(placeholder);
    }
  }

  function setState(article, post) {
    ["shown", "hidden", "deleted"].forEach(function (state) {
      article.classList.toggle("post-" + state, post.state === state);
    });
    article.classList.toggle("post-highlighted", !!post.highlighted);
    article.classList.toggle("post-pinned", !!post.pinned);
    show(slot(article, "highlighted"), !!post.highlighted);
    show(slot(article, "pinned"), !!post.pinned);
    show(slot(article, "edited"), !!post.edited);
    if (post.reactions) {
      Object.keys(post.reactions).forEach(function (kind) {
        setText(slot(article, "reactions") &&
                slot(article, "reactions").querySelector("[data-count=" + kind + "]"),
                String(post.reactions[kind]));
      });
    }
  }

  function thisThread(payload) {
    return payload && payload.thread_id === threadId && payload.post;
  }

  function insertPost(post, announce) {
    if (document.getElementById("post-" + post.id)) { return false; }
    var list = post.parent_id
      ? page.querySelector("[data-replies-for=\"" + post.parent_id + "\"]")
      : page.querySelector("[data-post-list]");
    if (!list) { return false; }  // a reply to a post this page does not show
    var article = fromTemplate(
      page.querySelector("template[data-post-template=" + (post.parent_id ? "reply" : "top") + "]"),
      post.id, "article");
    if (!article) { return false; }
    setText(slot(article, "author"), authorLabel(post));
    show(slot(article, "staff"), post.author.is_staff && !post.author.anonymous);
    setText(slot(article, "kind"), kindLabel(post));
    var time = slot(article, "time");
    if (time) {
      time.setAttribute("datetime", post.created_at);
      time.textContent = formatTime(post.created_at);
    }
    show(slot(article, "new"), !post.author.is_you);
    setBody(article, post);
    setState(article, post);
    var item = document.createElement("li");
    item.appendChild(article);
    list.appendChild(item);
    show(page.querySelector("[data-no-posts]"), false);
    if (announce) { live.announce("New post by " + post.author.label + "."); }
    return true;
  }

  function authorLabel(post) {
    return post.author.label + (post.author.is_you && !post.author.anonymous ? " (you)" : "");
  }

  socket.on("post_created", function (payload) {
    if (!thisThread(payload)) { return; }
    var post = payload.post;
    var article = document.getElementById("post-" + post.id);
    if (article && post.author.is_you) {
      // The author's own tabs get the post again, as theirs, after their audience's view.
      setText(slot(article, "author"), authorLabel(post));
      show(slot(article, "new"), false);
      return;
    }
    insertPost(post, !post.author.is_you);
  });

  socket.on("post_updated", function (payload) {
    if (!thisThread(payload)) { return; }
    var article = document.getElementById("post-" + payload.post.id);
    if (!article) { return; }
    setBody(article, payload.post);
    setState(article, payload.post);
  });

  socket.on("post_hidden", function (payload) {
    if (!thisThread(payload)) { return; }
    var post = payload.post;
    var article = document.getElementById("post-" + post.id);
    if (!article) { return; }
    setBody(article, post);
    setState(article, post);
    if (post.body_html === null || post.body_html === undefined) {
      // Nothing left to react or reply to.
      ["footer", "reply-area"].forEach(function (name) {
        var element = slot(article, name);
        if (element) { element.parentNode.removeChild(element); }
      });
    }
  });

  socket.on("thread_activity", function (payload) {
    if (!payload || payload.thread_id !== threadId) { return; }
    setText(page.querySelector("[data-peers-posted]"), payload.peers_posted);
  });

  socket.on("thread_stage_changed", function (payload) {
    if (!payload || payload.thread_id !== threadId) { return; }
    setText(page.querySelector("[data-stage-label]"), payload.stage_label);
    show(page.querySelector("[data-stage-reload]"), true);
    live.announce("This discussion is now in its " + payload.stage_label +
                  " stage. Reload to see what you can do now.");
  });

  socket.on("thread_locked", function (payload) {
    if (!payload || payload.thread_id !== threadId) { return; }
    var text = payload.locked
      ? "A facilitator has locked this discussion" + (payload.reason ? ": " + payload.reason : "") + "."
      : "A facilitator has unlocked this discussion.";
    setText(page.querySelector("[data-lock-text]"), text);
    show(page.querySelector("[data-lock-notice]"), true);
    live.announce(text);
  });

  // --- catch-up after a reconnect ---------------------------------------------------------
  function getJson(url) {
    return window.fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      });
  }

  function applyPost(post) {
    var article = document.getElementById("post-" + post.id);
    if (article) {
      setBody(article, post);
      setState(article, post);
    } else {
      insertPost(post, false);
    }
  }

  function catchUp() {
    var threadUrl = page.getAttribute("data-thread-url");
    var postsUrl = page.getAttribute("data-posts-url");
    if (!window.fetch || !threadUrl || !postsUrl) { return Promise.reject(new Error("no fetch")); }
    var added = 0;
    function fetchPage(cursor) {
      var url = postsUrl + "?limit=200" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
      return getJson(url).then(function (result) {
        result.items.forEach(function (post) {
          if (!document.getElementById("post-" + post.id)) { added += 1; }
          applyPost(post);
          post.replies.forEach(function (reply) {
            if (!document.getElementById("post-" + reply.id)) { added += 1; }
            applyPost(reply);
          });
        });
        return result.next_cursor ? fetchPage(result.next_cursor) : null;
      });
    }
    return getJson(threadUrl).then(function (thread) {
      setText(page.querySelector("[data-peers-posted]"), thread.peers_posted);
      var label = page.querySelector("[data-stage-label]");
      if (label && label.textContent !== thread.stage_label) {
        setText(label, thread.stage_label);
        show(page.querySelector("[data-stage-reload]"), true);
      }
      return thread.can_see_posts ? fetchPage(null) : null;
    }).then(function () {
      if (added) {
        live.announce(added === 1 ? "1 post arrived while you were offline."
                                  : added + " posts arrived while you were offline.");
      }
    });
  }

  var connectedBefore = socket.connected;
  socket.on("connect", function () {
    if (connectedBefore) {
      catchUp().catch(function () { show(page.querySelector("[data-reconnected]"), true); });
    }
    connectedBefore = true;
  });
})();
