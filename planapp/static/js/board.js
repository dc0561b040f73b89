/* The forum board: SortableJS drags and the move buttons both send one relative move
   (project, target group, the card it now sits above, the plan version seen) through htmx.
   The server answers with out-of-band fragments, or 409 and the fresh board. */
(function () {
  "use strict";

  // A stale change answers 409 with the fresh board, a form with errors 422 with the form:
  // both are answers to show, not failures.
  htmx.config.responseHandling = [
    { code: "409", swap: true, error: false },
    { code: "422", swap: true, error: false },
    // A move touching a confirmed (locked) group: 423 with the message and the fresh board.
    { code: "423", swap: true, error: false }
  ].concat(htmx.config.responseHandling);

  var queue = Promise.resolve();
  var pendingFocus = null;

  function board() { return document.getElementById("board"); }

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

  // Moves go one at a time: each reads the plan version the previous answer brought.
  function sendMove(projectId, group, beforeId, focus) {
    queue = queue.then(function () {
      var el = board();
      var values = filterValues();
      values.project_id = projectId;
      values.group = group;
      values.before_id = beforeId || "";
      values.version = document.getElementById("plan-version").value;
      pendingFocus = focus ? { id: projectId, selector: focus } : null;
      return htmx.ajax("POST", el.dataset.movesUrl, { source: el, values: values, swap: "none" });
    }).catch(function () { /* the htmx:sendError handler reloads the board */ });
  }

  function groupOf(list) { return list.closest("[data-group]").dataset.group; }

  function initLists(root) {
    var lists = root.matches && root.matches("[data-card-list]") ? [root] : [];
    lists = lists.concat(Array.prototype.slice.call(root.querySelectorAll("[data-card-list]")));
    lists.forEach(function (list) {
      if (Sortable.get(list)) { return; }
      Sortable.create(list, {
        group: "board",
        draggable: ".card",
        // A confirmed group (planapp/meeting) is locked: nothing leaves, enters or reorders.
        disabled: !!list.closest("[data-confirmed]"),
        // Fallback mode follows a finger on tablets the same way as a mouse.
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
        onEnd: function (evt) {
          if (evt.from === evt.to && evt.oldIndex === evt.newIndex) { return; }
          var next = cardAfter(evt.item, false);
          sendMove(evt.item.dataset.projectId, groupOf(evt.to), next ? next.dataset.projectId : "", null);
        }
      });
    });
  }

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("[data-move-step], [data-move-to-group]");
    if (!button || !board() || !board().contains(button)) { return; }
    var card = button.closest(".card");
    var group = groupOf(card.parentElement);
    if (button.hasAttribute("data-move-step")) {
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

  document.addEventListener("htmx:afterSettle", function () {
    var el = board();
    var version = document.getElementById("plan-version");
    if (el && version) { el.dataset.planVersion = version.value; }
    if (pendingFocus) {
      var card = document.getElementById("card-" + pendingFocus.id);
      var target = card && card.querySelector(pendingFocus.selector);
      if (target) { target.focus(); }
      pendingFocus = null;
    }
  });

  // The panel: focus its heading when it opens, give focus back to the card when it closes.
  document.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "card-panel") {
      var heading = evt.detail.target.querySelector("[data-panel-heading]");
      if (heading) { heading.focus(); }
    }
  });
  document.addEventListener("click", function (evt) {
    var close = evt.target.closest("[data-close-panel]");
    if (!close) { return; }
    var panel = document.getElementById("card-panel");
    var id = close.dataset.closePanel;
    var card = document.getElementById("card-" + id) || document.getElementById("urgency-item-" + id);
    panel.innerHTML = "";
    var details = card && card.querySelector(".card-open, .details-button");
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

  htmx.onLoad(initLists);
})();
