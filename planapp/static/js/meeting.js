// Running the meeting: the countdown every screen shows (refusals are swapped in place: base.html).
// No inline scripts (CSP): this module wires itself to data-* attributes.
(function () {
  "use strict";

  // --- countdown: the server says how many seconds were left when it rendered the element;
  // we count down from the moment the element arrived, so a device's wrong clock never matters.
  var arrived = new WeakMap();

  function format(seconds) {
    var s = Math.max(0, seconds);
    var minutes = Math.floor(s / 60);
    var rest = s % 60;
    return minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function stateFor(seconds) {
    if (seconds <= 0) return "over";
    if (seconds <= 60) return "warning";
    return "normal";
  }

  function tick() {
    var now = performance.now();
    document.querySelectorAll("[data-timer]").forEach(function (el) {
      if (!arrived.has(el)) {
        arrived.set(el, { at: now, remaining: parseInt(el.getAttribute("data-remaining"), 10) || 0 });
      }
      var start = arrived.get(el);
      var running = el.getAttribute("data-running") === "true";
      var left = running ? Math.max(0, start.remaining - Math.floor((now - start.at) / 1000)) : start.remaining;
      if (el.getAttribute("data-remaining") !== String(left)) el.setAttribute("data-remaining", String(left));
      var text = format(left);
      if (el.textContent !== text) el.textContent = text;
      var state = stateFor(left);
      ["normal", "warning", "over"].forEach(function (name) {
        el.classList.toggle("countdown-" + name, name === state);
      });
    });
  }

  // The pause slide's clock: the hall's time, ticking on the projector itself.
  function clocks() {
    var now = new Date();
    var text = (now.getHours() < 10 ? "0" : "") + now.getHours() + ":" +
      (now.getMinutes() < 10 ? "0" : "") + now.getMinutes();
    document.querySelectorAll("[data-clock]").forEach(function (el) {
      if (el.textContent !== text) el.textContent = text;
    });
  }

  setInterval(function () { tick(); clocks(); }, 250);
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:load", tick);
})();
