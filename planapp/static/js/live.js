// Live views (projector and phone): wiring around htmx's SSE extension, no content logic.
// - after each event (the whole content or only the parts that changed), mirror its version on
//   the screen and <body data-plan-version> and into the stream address, so a reconnect (a new
//   EventSource, without Last-Event-ID) asks only for news, and fill in the cards a delta keeps;
// - show "not live since HH:MM" when the stream has been down for more than 5 seconds;
// - turn the pages of long columns on the projector (nobody can scroll a projector).
(function () {
  "use strict";
  var PAGE_SECONDS = 8;

  function live() { return document.getElementById("live"); }

  function versionChanged(event) {
    var root = live();
    var version = event.detail && event.detail.lastEventId;
    if (!root || !version) { return; }
    // A delta swaps only the parts that changed: the screen around them takes the version too.
    var screen = root.querySelector("[data-plan-version]");
    if (screen) { screen.setAttribute("data-plan-version", version); }
    document.body.setAttribute("data-plan-version", version);
    var address = root.getAttribute("sse-connect");
    if (address) {
      root.setAttribute("sse-connect", address.replace(/([?&]version=)-?\d+/, "$1" + version));
    }
  }

  // "Not live since HH:MM" (issue 10): a blip of the hall's Wi-Fi is not news, so the badge
  // shows only when the stream has been down for more than OFFLINE_AFTER_MS, and it names the
  // moment the stream was lost. It goes when the stream is back (which brings the fresh state).
  var OFFLINE_AFTER_MS = 5000;
  var downSince = null;
  var offlineTimer = null;

  function showOffline() {
    var badge = document.querySelector("[data-offline-badge]");
    if (!badge || !downSince) { return; }
    badge.setAttribute("data-offline-since", downSince.toISOString());
    var time = badge.querySelector("[data-offline-time]");
    time.setAttribute("datetime", downSince.toISOString());
    time.textContent = downSince.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    badge.hidden = false;
    document.body.classList.add("is-offline");
  }

  function setOffline(offline) {
    var badge = document.querySelector("[data-offline-badge]");
    if (!badge) { return; }
    if (offline) {
      if (downSince === null) {
        downSince = new Date();
        offlineTimer = window.setTimeout(showOffline, OFFLINE_AFTER_MS);
      }
    } else {
      window.clearTimeout(offlineTimer);
      offlineTimer = null;
      downSince = null;
      badge.hidden = true;
      badge.removeAttribute("data-offline-since");
      document.body.classList.remove("is-offline");
    }
  }

  function turnPages() {
    if (!document.body.hasAttribute("data-projector")) { return; }
    document.querySelectorAll("[data-pager]").forEach(function (pager) {
      var pages = Array.prototype.filter.call(pager.children, function (el) {
        return el.classList.contains("page");
      });
      if (pages.length < 2) { return; }
      var current = pages.findIndex(function (page) { return !page.hidden; });
      var next = (current + 1) % pages.length;
      pages.forEach(function (page, i) { page.hidden = i !== next; });
    });
  }

  // A delta sends a changed column with a <template data-keep="<project id>"> for each card
  // that did not change: put there the card this view already shows.
  function keepCards(event) {
    var column = event.detail.target;
    event.detail.fragment.querySelectorAll("template[data-keep]").forEach(function (slot) {
      var card = column.querySelector('[data-project-id="' + slot.getAttribute("data-keep") + '"]');
      if (card) { slot.replaceWith(card); }
    });
  }

  document.addEventListener("htmx:oobBeforeSwap", keepCards);
  document.addEventListener("htmx:sseMessage", versionChanged);
  document.addEventListener("htmx:sseOpen", function () { setOffline(false); });
  document.addEventListener("htmx:sseError", function () { setOffline(true); });
  window.setInterval(turnPages, PAGE_SECONDS * 1000);
})();
