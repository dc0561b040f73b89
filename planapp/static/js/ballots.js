// The phone's ballot: count the picks left as the voter ticks projects, and hold the unticked
// ones once none is left (the server checks the limit again on the one confirm).
(function () {
  "use strict";
  function update(ballot) {
    var limit = parseInt(ballot.getAttribute("data-picks"), 10) || 0;
    var boxes = ballot.querySelectorAll('input[name="project_id"]');
    var ticked = 0;
    boxes.forEach(function (box) { if (box.checked) { ticked += 1; } });
    var left = Math.max(limit - ticked, 0);
    ballot.setAttribute("data-picks-left", String(left));
    var count = ballot.querySelector("[data-picks-left-count]");
    if (count) { count.textContent = String(left); }
    boxes.forEach(function (box) {
      box.disabled = !box.checked && left === 0;
      box.closest(".ballot-choice").classList.toggle("is-chosen", box.checked);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-ballot][data-picks]").forEach(function (ballot) {
      ballot.addEventListener("change", function () { update(ballot); });
      update(ballot);
    });
  });
})();
