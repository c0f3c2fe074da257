// Rubric builder: the "Add" and "Remove" buttons change the rubric in place, and the best
// possible score updates as points are typed. Without this file the same buttons post
// the form and the server returns it with the change made.
(function () {
  "use strict";

  var section = document.querySelector("[data-rubric]");
  if (!section) { return; }
  var form = section.closest("form");
  var list = section.querySelector("[data-rubric-criteria]");
  var total = section.querySelector("[data-rubric-total]");
  var maxCriteria = parseInt(form.getAttribute("data-rubric-max-criteria"), 10) || 12;
  var maxLevels = parseInt(form.getAttribute("data-rubric-max-levels"), 10) || 6;
  var NAMED = ["name", "id", "for", "aria-describedby"];

  function criteria() { return list.querySelectorAll("[data-rubric-criterion]"); }
  function levels(criterion) { return criterion.querySelectorAll("[data-rubric-level]"); }

  // Rewrite "criteria-N-…" and "criteria-N-levels-M-…" in every naming attribute.
  function rename(element, c, l) {
    NAMED.forEach(function (attribute) {
      var value = element.getAttribute(attribute);
      if (!value) { return; }
      value = value.replace(/criteria-\d+-/g, "criteria-" + c + "-");
      if (l !== null) {
        value = value.replace(/-levels-\d+-/g, "-levels-" + l + "-");
      }
      element.setAttribute(attribute, value);
    });
  }

  function label(element, c, l) {
    var template = element.getAttribute("data-rubric-text");
    element.textContent = template.replace("{c}", c + 1).replace("{l}", l === null ? "" : l + 1);
  }

  function renumber() {
    var all = criteria();
    all.forEach(function (criterion, c) {
      criterion.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (el) {
        var row = el.closest("[data-rubric-level]");
        rename(el, c, row ? Array.prototype.indexOf.call(levels(criterion), row) : null);
      });
      criterion.querySelectorAll("[data-rubric-text]").forEach(function (el) {
        var row = el.closest("[data-rubric-level]");
        label(el, c, row ? Array.prototype.indexOf.call(levels(criterion), row) : null);
      });
      var rows = levels(criterion);
      rows.forEach(function (row, l) {
        var remove = row.querySelector("[data-rubric-action='remove_level']");
        remove.value = "remove_level:" + c + ":" + l;
        remove.disabled = rows.length <= 2;
      });
      var addLevel = criterion.querySelector("[data-rubric-action='add_level']");
      addLevel.value = "add_level:" + c;
      addLevel.id = "add-level-" + c;
      addLevel.disabled = rows.length >= maxLevels;
      var removeCriterion = criterion.querySelector("[data-rubric-action='remove_criterion']");
      removeCriterion.value = "remove_criterion:" + c;
      removeCriterion.disabled = all.length <= 1;
    });
    section.querySelector("[data-rubric-action='add_criterion']").disabled =
      all.length >= maxCriteria;
    updateTotal();
  }

  // A copy starts clean: no error messages or error states from the server's last answer.
  function withoutErrors(element) {
    element.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
    element.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    });
    element.querySelectorAll("[autofocus]").forEach(function (el) {
      el.removeAttribute("autofocus");
    });
    return element;
  }

  function clear(field) {
    field.value = "";
    if (field.tagName === "TEXTAREA") { field.textContent = ""; }
  }

  function updateTotal() {
    var sum = 0;
    criteria().forEach(function (criterion) {
      var best = 0;
      criterion.querySelectorAll("[data-rubric-points]").forEach(function (input) {
        var points = /^\s*\d+\s*$/.test(input.value) ? parseInt(input.value, 10) : 0;
        best = Math.max(best, points);
      });
      sum += best;
    });
    total.textContent = String(sum);
  }

  var actions = {
    add_criterion: function () {
      var all = criteria();
      if (all.length >= maxCriteria) { return null; }
      // Like the server: a new criterion starts with the levels of the one before it.
      var copy = withoutErrors(all[all.length - 1].cloneNode(true));
      copy.querySelectorAll("[name$='-title'], [name$='-description']").forEach(clear);
      list.appendChild(copy);
      return copy.querySelector("[name$='-title']");
    },
    remove_criterion: function (button) {
      if (criteria().length <= 1) { return null; }
      button.closest("[data-rubric-criterion]").remove();
      return section.querySelector("[data-rubric-action='add_criterion']");
    },
    add_level: function (button) {
      var criterion = button.closest("[data-rubric-criterion]");
      var rows = levels(criterion);
      if (rows.length >= maxLevels) { return null; }
      var copy = withoutErrors(rows[rows.length - 1].cloneNode(true));
      copy.querySelectorAll("input").forEach(clear);
      criterion.querySelector("[data-rubric-levels]").appendChild(copy);
      return copy.querySelector("input");
    },
    remove_level: function (button) {
      var criterion = button.closest("[data-rubric-criterion]");
      if (levels(criterion).length <= 2) { return null; }
      button.closest("[data-rubric-level]").remove();
      return criterion.querySelector("[data-rubric-action='add_level']");
    }
  };

  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-rubric-action]");
    if (!button || !form.contains(button)) { return; }
    event.preventDefault();
    var focus = actions[button.getAttribute("data-rubric-action")](button);
    renumber();
    if (focus) { focus.focus(); }
  });

  form.addEventListener("input", function (event) {
    if (event.target.hasAttribute("data-rubric-points")) { updateTotal(); }
  });

  renumber();
}());
