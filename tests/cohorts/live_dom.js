// A minimal stand-in for the browser's DOM, enough to run static/js/releases.js under Node
// against a timeline item the cohort page rendered (tests/cohorts/test_live_release.py).
// Usage: node live_dom.js SCRIPT '{"cohort_id": 1, "item": {...}, "payload": {...}}'
"use strict";
const fs = require("fs");
const [scriptPath, input] = process.argv.slice(2);
const { cohort_id: cohortId, item: tree, payload } = JSON.parse(input);

function Text(text, parent) { this.text = text; this.parentNode = parent; }

function El(tag, attrs, parent) {
  this.tagName = tag; this.attrs = Object.assign({}, attrs || {});
  this.children = []; this.parentNode = parent || null;
}
El.prototype.getAttribute = function (name) {
  return name in this.attrs ? this.attrs[name] : null;
};
Object.defineProperty(El.prototype, "className", {
  get() { return this.attrs.class || ""; }, set(v) { this.attrs.class = v; } });
Object.defineProperty(El.prototype, "href", {
  get() { return this.attrs.href; }, set(v) { this.attrs.href = v; } });
Object.defineProperty(El.prototype, "textContent", {
  get() { return this.children.map((c) => (c instanceof Text ? c.text : c.textContent)).join(""); },
  set(v) { this.children = v ? [new Text(v, this)] : []; } });
El.prototype.matches = function (sel) {
  if (sel.startsWith(".")) { return this.className.split(/\s+/).includes(sel.slice(1)); }
  if (sel.startsWith("[")) { return sel.slice(1, -1) in this.attrs; }
  return this.tagName === sel;
};
El.prototype.querySelectorAll = function (sel) {
  const found = [];
  (function walk(el) {
    for (const child of el.children) {
      if (child instanceof El) { if (child.matches(sel)) { found.push(child); } walk(child); }
    }
  })(this);
  return found;
};
El.prototype.querySelector = function (sel) { return this.querySelectorAll(sel)[0] || null; };
El.prototype.appendChild = function (el) { el.parentNode = this; this.children.push(el); return el; };
El.prototype.removeChild = function (el) {
  this.children = this.children.filter((c) => c !== el); el.parentNode = null; return el;
};
El.prototype.insertAdjacentElement = function (where, el) {
  if (where !== "afterend") { throw new Error("only afterend is needed"); }
  const siblings = this.parentNode.children;
  siblings.splice(siblings.indexOf(this) + 1, 0, el); el.parentNode = this.parentNode;
  return el;
};

function build(node, parent) {
  if (typeof node === "string") { return new Text(node, parent); }
  const el = new El(node.tag, node.attrs, parent);
  el.children = node.children.map((child) => build(child, el));
  return el;
}
function dump(el) {
  if (el instanceof Text) { return el.text; }
  return { tag: el.tagName, attrs: el.attrs, children: el.children.map(dump) };
}

const timeline = new El("section", { "data-cohort-timeline": String(cohortId) });
const item = build(tree, timeline);
timeline.children.push(item);
const handlers = {};
const announced = [];
global.window = global;
global.document = {
  createElement: (tag) => new El(tag),
  querySelector(sel) {
    const m = /^\[data-cohort-timeline="(\d+)"\] \[data-module-id="(\d+)"\]$/.exec(sel);
    if (!m) { throw new Error("unexpected selector " + sel); }
    return m[1] === String(cohortId) && m[2] === item.getAttribute("data-module-id") ? item : null;
  },
};
window.cohortLive = { socket: { on: (name, fn) => { handlers[name] = fn; } },
                      announce: (message) => announced.push(message) };
eval(fs.readFileSync(scriptPath, "utf8"));  // eslint-disable-line no-eval
handlers.module_released(payload);
process.stdout.write(JSON.stringify({ item: dump(item), text: item.textContent, announced }));
