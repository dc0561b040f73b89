// Live views (projector and phone): wiring around htmx's SSE extension, no content logic.
// - after each event (the whole content or only the regions that changed), mirror its version
//   on the screen and <body data-plan-version> and into the stream address, so a reconnect (a
//   new EventSource, without Last-Event-ID) asks only for news, and leave the highlight on the
//   card the latest change was about only;
// - show "not live since HH:MM" when the stream has been down for more than 5 seconds;
// - turn the pages of long lists on the projector (nobody can scroll a projector): a list flows
//   into screen-high columns (CSS multi-column), and a page is the columns that fit.
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

  // A list's pages: how far one page moves it, how many there are, which one a card is on.
  function pagesOf(list) {
    var gap = parseFloat(getComputedStyle(list).columnGap) || 0;
    // The exact width (clientWidth is rounded: pages further along would drift out of line).
    var step = list.getBoundingClientRect().width + gap;
    var left = list.getBoundingClientRect().left;
    var cards = list.querySelectorAll(".live-card");
    var pageOf = function (card) {
      return step > 0 ? Math.round((card.getBoundingClientRect().left - left) / step) : 0;
    };
    var count = cards.length ? pageOf(cards[cards.length - 1]) + 1 : 1;
    return { step: step, count: Math.max(1, count), pageOf: pageOf };
  }

  function showPage(pager, next) {
    var list = pager.querySelector(".cards");
    if (!list) {  // a screen of whole pages (the overview)
      var pages = Array.prototype.filter.call(pager.children, function (el) {
        return el.classList.contains("page");
      });
      if (pages.length < 2) { return; }
      var current = pages.findIndex(function (page) { return !page.hidden; });
      var index = next === "next" ? (current + 1) % pages.length : 0;
      pages.forEach(function (page, i) { page.hidden = i !== index; });
      return;
    }
    var layout = pagesOf(list);
    var page = Number(list.dataset.page || 0);
    if (next === "next") {
      page = (page + 1) % layout.count;
    } else {
      var marked = list.querySelector("[data-last-change]");
      page = marked ? layout.pageOf(marked) : Math.min(page, layout.count - 1);
    }
    list.dataset.page = String(page);
    list.style.transform = page ? "translateX(" + (-page * layout.step) + "px)" : "";
    var label = pager.closest(".live-column").querySelector("[data-page-of]");
    if (label) {
      label.textContent = layout.count > 1
        ? pager.dataset.pageLabel.replace("{page}", page + 1).replace("{pages}", layout.count)
        : "";
    }
  }

  function pagers(next) {
    if (!document.body.hasAttribute("data-projector")) { return; }
    document.querySelectorAll("[data-pager]").forEach(function (pager) { showPage(pager, next); });
  }

  // After a delta, only the card the latest change was about keeps its highlight.
  function highlight() {
    var last = document.getElementById("live-last");
    var id = last ? last.getAttribute("data-last-id") : "";
    document.querySelectorAll("#live [data-last-change]").forEach(function (card) {
      if (card.getAttribute("data-project-id") !== id) {
        card.removeAttribute("data-last-change");
        card.classList.remove("is-last-change");
      }
    });
  }

  function news(event) {
    versionChanged(event);
    highlight();
    pagers("shown");
  }

  document.addEventListener("htmx:sseMessage", news);
  document.addEventListener("DOMContentLoaded", function () { pagers("shown"); });
  // The Thai font changes every card's height once it has loaded.
  if (document.fonts) { document.fonts.ready.then(function () { pagers("shown"); }); }
  window.addEventListener("resize", function () { pagers("shown"); });
  document.addEventListener("htmx:sseOpen", function () { setOffline(false); });
  document.addEventListener("htmx:sseError", function () { setOffline(true); });
  window.setInterval(function () { pagers("next"); }, PAGE_SECONDS * 1000);
})();
