/* The forum board. Every tablet's board follows the plan's live stream (htmx's SSE extension on
   #board): each event, like the answer to a change made here, is a set of out-of-band swaps of
   the regions that changed since the version this board shows (data-plan-version). Drags
   (SortableJS) and the move buttons send one relative move: the card, its group, the card it now
   sits above, and the version this board had caught up to.

   While a change of ours is on its way, or a finger is dragging, the stream's events wait here
   and follow the answer (one that the answer already covers is dropped): news never lands in a
   column the board is rearranging. The focus, an open panel and what is typed there stay. */
(function () {
  "use strict";

  var moves = Promise.resolve();
  var queued = 0;     // moves waiting to be sent
  var busy = 0;       // changes of ours on their way
  var dragging = false;
  var held = [];      // stream events waiting for our answer
  var pendingFocus = null;
  var selectedId = null;  // the card whose controls show (a tap on it); kept across swaps
  var panelFor = null;    // the card whose panel is open

  function board() { return document.getElementById("board"); }

  function shownVersion() {
    var input = document.getElementById("plan-version");
    return input ? Number(input.value) : -1;
  }

  function isCard(el) { return el && el.classList && el.classList.contains("card"); }

  function cardAfter(card, visibleOnly) {
    var next = card.nextElementSibling;
    while (next && (!isCard(next) || (visibleOnly && next.classList.contains("is-filtered-out")))) {
      next = next.nextElementSibling;
    }
    return next;
  }

  function cardBefore(card) {
    var prev = card.previousElementSibling;
    while (prev && (!isCard(prev) || prev.classList.contains("is-filtered-out"))) {
      prev = prev.previousElementSibling;
    }
    return prev;
  }

  function say(text) {
    var status = document.getElementById("board-status");
    if (status) { status.textContent = text; }
  }

  function filterValues() {
    var values = {};
    var form = document.getElementById("board-filters");
    if (form) { new FormData(form).forEach(function (value, key) { values[key] = value; }); }
    return values;
  }

  // --- news: the answers to our changes, and the stream's events --------------------------

  function waiting() { return busy > 0 || queued > 0 || dragging; }

  // After news landed: the board (and the stream's address, for a reconnect) show the version
  // now reached; the group menus of new cards get their options; the focus comes back.
  function caughtUp() {
    var el = board();
    if (!el) { return; }
    var version = String(shownVersion());
    el.setAttribute("data-plan-version", version);
    var address = el.getAttribute("sse-connect");
    if (address) {
      var next = /[?&]version=/.test(address)
        ? address.replace(/([?&]version=)-?\d+/, "$1" + version)
        : address + (address.indexOf("?") < 0 ? "?" : "&") + "version=" + version;
      el.setAttribute("sse-connect", next);
    }
    fillGroupMenus(el);
    showSelection();
    if (pendingFocus) {
      var card = document.getElementById("card-" + pendingFocus.id);
      var target = card && card.querySelector(pendingFocus.selector);
      if (target && document.activeElement !== target) { target.focus(); }
      if (!busy && !queued) { pendingFocus = null; }
    }
  }

  function release() {
    if (waiting()) { return; }
    var items = held;
    held = [];
    items.forEach(function (message) {
      if (Number(message.lastEventId) > shownVersion()) {
        htmx.swap(board(), message.data, { swapStyle: "none" });
      }
    });
    caughtUp();
  }

  document.addEventListener("htmx:sseBeforeMessage", function (evt) {
    if (evt.target !== board()) { return; }
    var message = evt.detail;
    if (waiting()) {
      held.push(message);
      evt.preventDefault();
    } else if (Number(message.lastEventId) <= shownVersion()) {
      evt.preventDefault();  // our own answer brought it already
    }
  });
  document.addEventListener("htmx:sseMessage", function (evt) {
    if (evt.target === board()) { caughtUp(); }
  });
  // data-live: the board is connected to its stream (the tests wait for it).
  document.addEventListener("htmx:sseOpen", function (evt) {
    if (evt.target === board()) { board().setAttribute("data-live", ""); }
  });
  document.addEventListener("htmx:sseError", function (evt) {
    if (evt.target === board()) { board().removeAttribute("data-live"); }
  });

  function isChange(evt) {
    var config = evt.detail.requestConfig;
    return config && config.verb && config.verb.toLowerCase() !== "get";
  }
  document.addEventListener("htmx:beforeRequest", function (evt) {
    if (isChange(evt)) { busy += 1; }
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    if (!isChange(evt)) { return; }
    busy = Math.max(0, busy - 1);
    caughtUp();
    release();
  });

  // A card the focus is in may be shown anew (another tablet changed it): keep the focus on
  // the same control of the new card.
  document.addEventListener("htmx:oobBeforeSwap", function (evt) {
    var active = document.activeElement;
    var card = active && active.closest && active.closest(".card");
    if (!card || !evt.detail.target || !evt.detail.target.contains(card)) { return; }
    var selector = ["data-move-step", "data-move-select", "data-move-to-group", "data-move-position", "data-move-to-position", "data-open-panel"]
      .filter(function (name) { return active.hasAttribute(name); })
      .map(function (name) { return "[" + name + (name === "data-move-step" ? '="' + active.getAttribute(name) + '"' : "") + "]"; })[0]
      || ".card-open";
    pendingFocus = pendingFocus || { id: card.dataset.projectId, selector: selector };
  });

  // --- moves ------------------------------------------------------------------------------

  // Moves go one at a time, each with the version the board shows when it leaves.
  function sendMove(projectId, group, beforeId, focus) {
    queued += 1;
    if (focus) { pendingFocus = { id: projectId, selector: focus }; }
    moves = moves.then(function () {
      queued -= 1;
      var el = board();
      var values = filterValues();
      values.project_id = projectId;
      values.group = group;
      values.before_id = beforeId || "";
      values.version = shownVersion();
      return htmx.ajax("POST", el.dataset.movesUrl, { source: el, values: values, swap: "none" });
    }).catch(function () { /* the htmx:sendError handler reloads the board */ });
  }

  function groupOf(list) { return list.closest("[data-group]").dataset.group; }

  function initLists(root) {
    var lists = root.matches && root.matches("[data-card-list]") ? [root] : [];
    lists = lists.concat(Array.prototype.slice.call(root.querySelectorAll("[data-card-list]")));
    lists.forEach(function (list) {
      var existing = Sortable.get(list);
      var locked = !!list.closest("[data-confirmed]");
      if (existing) { existing.option("disabled", locked); return; }
      Sortable.create(list, {
        group: "board",
        draggable: ".card",
        // A confirmed group (planapp/meeting) is locked: nothing leaves, enters or reorders.
        disabled: locked,
        // Fallback mode follows a finger on tablets the same way as a mouse. The page itself
        // never scrolls (forum.css), so auto-scroll moves only the column under the finger,
        // whose cards SortableJS follows: a card lands where the finger lifts. (A page that
        // scrolled under a resting finger carried the cards away from it.)
        forceFallback: true,
        fallbackTolerance: 4,
        // A finger must rest briefly before a drag starts, so a swipe still scrolls the board.
        delay: 150,
        delayOnTouchOnly: true,
        animation: 150,
        filter: ".card-controls, .is-filtered-out",
        preventOnFilter: false,
        ghostClass: "card-ghost",
        chosenClass: "card-chosen",
        onStart: function () { dragging = true; },
        onEnd: function (evt) {
          dragging = false;
          if (evt.from !== evt.to || evt.oldIndex !== evt.newIndex) {
            var next = cardAfter(evt.item, false);
            sendMove(evt.item.dataset.projectId, groupOf(evt.to), next ? next.dataset.projectId : "", null);
          }
          release();
        }
      });
    });
  }

  // "Move to position N": the same relative move as a drop, above the card now at N (Thai or
  // Western digits; the end of the column for its last place).
  var THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙";
  function wholeNumber(text) {
    var digits = String(text || "").replace(/[\s,]/g, "").replace(/[๐-๙]/g, function (d) {
      return String(THAI_DIGITS.indexOf(d));
    });
    return /^\d{1,6}$/.test(digits) ? Number(digits) : null;
  }

  function moveError(card, text) {
    var controls = card.querySelector(".card-controls");
    var old = controls.querySelector(".move-error");
    if (old) { old.remove(); }
    var input = controls.querySelector("[data-move-position]");
    if (!text) { input.removeAttribute("aria-invalid"); return; }
    var p = document.createElement("p");
    p.className = "field-errors move-error";
    p.setAttribute("role", "alert");
    p.id = "move-error-" + card.dataset.projectId;
    p.textContent = text;
    controls.querySelector("[data-move-to-position]").insertAdjacentElement("afterend", p);
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", p.id);
  }

  function moveToPosition(card) {
    var input = card.querySelector("[data-move-position]");
    var cards = Array.prototype.filter.call(card.parentElement.children, isCard);
    var n = wholeNumber(input.value);
    if (n === null || n < 1 || n > cards.length) {
      moveError(card, board().dataset.msgPosition.replace("%(count)s", cards.length));
      input.focus();
      return;
    }
    moveError(card, "");
    if (cards.indexOf(card) === n - 1) { say(board().dataset.msgHere); return; }
    var others = cards.filter(function (el) { return el !== card; });
    var before = others[n - 1];
    sendMove(card.dataset.projectId, groupOf(card.parentElement), before ? before.dataset.projectId : "", "[data-move-position]");
  }

  document.addEventListener("keydown", function (evt) {
    if (evt.key === "Enter" && evt.target.matches && evt.target.matches("[data-move-position]")) {
      evt.preventDefault();
      moveToPosition(evt.target.closest(".card"));
    }
  });

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("[data-move-step], [data-move-to-group], [data-move-to-position]");
    if (!button || !board() || !board().contains(button)) { return; }
    var card = button.closest(".card");
    var group = groupOf(card.parentElement);
    if (button.hasAttribute("data-move-to-position")) {
      moveToPosition(card);
    } else if (button.hasAttribute("data-move-step")) {
      var up = button.dataset.moveStep === "-1";
      var focus = '[data-move-step="' + button.dataset.moveStep + '"]';
      if (up) {
        var above = cardBefore(card);
        if (!above) { say(board().dataset.msgTop); return; }
        sendMove(card.dataset.projectId, group, above.dataset.projectId, focus);
      } else {
        var below = cardAfter(card, true);
        if (!below) { say(board().dataset.msgBottom); return; }
        var afterBelow = cardAfter(below, false);
        sendMove(card.dataset.projectId, group, afterBelow ? afterBelow.dataset.projectId : "", focus);
      }
    } else {
      var target = card.querySelector("[data-move-select]").value;
      if (target === group) { return; }
      sendMove(card.dataset.projectId, target, "", "[data-move-select]");
    }
  });

  // The group menu of every card offers the same five groups: the page sends them once
  // (#group-options), and a card's menu starts at the group of its column.
  function fillGroupMenus(root) {
    var options = document.getElementById("group-options");
    if (!options || !root.querySelectorAll) { return; }
    root.querySelectorAll("select[data-move-select]").forEach(function (select) {
      if (select.options.length) { return; }
      select.replaceChildren(options.content.cloneNode(true));
      select.value = groupOf(select.closest(".card").parentElement);
    });
  }

  // --- the project panel -----------------------------------------------------------------

  // --- the selected card: a tap shows its controls (one card at a time) ---------------------

  function showSelection() {
    var chosen = selectedId && document.getElementById("card-" + selectedId);
    document.querySelectorAll(".card.is-selected").forEach(function (card) {
      if (card !== chosen) {
        card.classList.remove("is-selected");
        card.querySelector(".card-open").setAttribute("aria-expanded", "false");
      }
    });
    if (chosen && !chosen.classList.contains("is-selected")) {
      chosen.classList.add("is-selected");
      chosen.querySelector(".card-open").setAttribute("aria-expanded", "true");
    }
  }

  document.addEventListener("click", function (evt) {
    var card = evt.target.closest && evt.target.closest(".card");
    if (!card || !board() || !board().contains(card) || evt.target.closest(".card-controls")) { return; }
    selectedId = card.classList.contains("is-selected") ? null : card.dataset.projectId;
    showSelection();
    if (selectedId) { card.scrollIntoView({ block: "nearest" }); }
  });
  document.addEventListener("htmx:oobAfterSwap", showSelection);

  document.addEventListener("click", function (evt) {
    var open = evt.target.closest("[data-open-panel]");
    if (!open || !board() || !board().contains(open)) { return; }
    var id = open.closest(".card").dataset.projectId;
    var url = board().dataset.panelUrl.replace(/\/0\/panel$/, "/" + id + "/panel");
    panelFor = id;
    htmx.ajax("GET", url, { target: "#card-panel", swap: "innerHTML" });
  });

  // --- the bar's folded parts: the site menu, the filters, the side (history, projector) ----

  function setOpen(toggle, open) {
    var target = document.getElementById(toggle.getAttribute("aria-controls"));
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (target) { target.classList.toggle("is-open", open); }
  }
  document.addEventListener("click", function (evt) {
    var toggle = evt.target.closest && evt.target.closest("[data-toggle]");
    document.querySelectorAll("[data-toggle][aria-expanded=true]").forEach(function (other) {
      var target = document.getElementById(other.getAttribute("aria-controls"));
      if (other !== toggle && !(target && target.contains(evt.target))) { setOpen(other, false); }
    });
    if (toggle) { setOpen(toggle, toggle.getAttribute("aria-expanded") !== "true"); }
  });
  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Escape") { return; }
    document.querySelectorAll("[data-toggle][aria-expanded=true]").forEach(function (toggle) {
      setOpen(toggle, false);
      toggle.focus();
    });
  });

  // Focus the panel's heading when it opens (not when it is shown anew for news), give focus
  // back to the card when it closes.
  var refreshing = false;
  document.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "card-panel") {
      if (!evt.detail.target.firstElementChild) {
        // Saved: the panel closed, the focus goes back to the card.
        var saved = panelFor && document.getElementById("card-" + panelFor);
        var back = saved && (saved.querySelector("[data-open-panel]:not([hidden])") || saved.querySelector(".card-open"));
        if (back && back.offsetParent) { back.focus(); } else if (saved) { saved.querySelector(".card-open").focus(); }
        panelFor = null;
        return;
      }
      var heading = evt.detail.target.querySelector("[data-panel-heading]");
      if (heading && !refreshing) { heading.focus(); }
      refreshing = false;
    }
  });

  // The panel is a region of its own: news never swaps it. When another device changed the
  // project it shows, it is read again, unless something was typed in it (then saving says so
  // and keeps the text).
  document.addEventListener("input", function (evt) {
    var panel = evt.target.closest && evt.target.closest("#card-panel");
    if (panel && panel.firstElementChild) { panel.firstElementChild.dataset.typed = "true"; }
  });
  document.addEventListener("htmx:oobAfterSwap", function (evt) {
    var shown = document.querySelector("#card-panel [data-panel-project]");
    var target = evt.detail.target;
    // (Not for the answer to our own change: it brings its own panel.)
    if (busy || !shown || shown.dataset.typed || !target || !target.matches || !target.matches(".card")) { return; }
    if (target.dataset.projectId !== shown.dataset.panelProject || !board()) { return; }
    var url = board().dataset.panelUrl.replace(/\/0\/panel$/, "/" + shown.dataset.panelProject + "/panel");
    refreshing = true;
    htmx.ajax("GET", url, { target: "#card-panel", swap: "innerHTML" });
  });
  document.addEventListener("click", function (evt) {
    var close = evt.target.closest("[data-close-panel]");
    if (!close) { return; }
    var panel = document.getElementById("card-panel");
    var id = close.dataset.closePanel;
    var card = document.getElementById("card-" + id) || document.getElementById("urgency-item-" + id);
    panel.innerHTML = "";
    var details = card && (card.querySelector(".card-open") && card.classList.contains("is-selected")
      ? card.querySelector("[data-open-panel]") : card.querySelector(".card-open, .details-button"));
    if (details) { details.focus(); }
  });

  // A lost connection or a server error: never leave the board showing an unsaved order.
  function reloadBoard() {
    var el = board();
    if (!el) { return; }
    var message = el.dataset.msgFailed;
    var url = el.dataset.boardUrl + window.location.search;
    htmx.ajax("GET", url, { target: "#board", swap: "outerHTML" }).then(function () { say(message); });
  }
  document.addEventListener("htmx:sendError", reloadBoard);
  document.addEventListener("htmx:responseError", function (evt) {
    if (evt.detail.elt && evt.detail.elt.id === "board") { reloadBoard(); }
  });

  htmx.onLoad(function (root) {
    initLists(root);
    fillGroupMenus(root);
    showSelection();
  });
})();
