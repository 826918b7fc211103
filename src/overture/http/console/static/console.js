// Progressive enhancement only: every form works without this file.
// 1. Cancel asks first, in a dialog (without script, the server asks on a page of its own).
// 2. A running job's page reloads itself until the job is done.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-confirm]");
    if (!button) return;
    if (!window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    var form = button.form;
    if (form && !form.querySelector("input[name=confirmed]")) {
      var yes = document.createElement("input");
      yes.type = "hidden";
      yes.name = "confirmed";
      yes.value = "yes";
      form.appendChild(yes);
    }
  });
  var refresh = document.querySelector("[data-refresh]");
  if (refresh) {
    var seconds = parseInt(refresh.getAttribute("data-refresh"), 10) || 5;
    window.setInterval(function () {
      if (!document.hidden) window.location.reload();
    }, seconds * 1000);
  }
})();
