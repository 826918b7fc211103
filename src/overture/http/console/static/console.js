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
// 3. A skill session's turns stream in as they are produced, and answers post in place.
(function () {
  "use strict";
  var list = document.getElementById("transcript");
  var form = document.getElementById("answer");
  if (!list || !form || !window.EventSource) return;
  var label = document.getElementById("question");
  var input = document.getElementById("text");
  var streaming = null;
  function add(kind, text) {
    var item = document.createElement("li");
    item.className = "turn t-" + kind;
    var body = document.createElement(kind === "ask" ? "strong" : "pre");
    body.textContent = text;
    item.appendChild(body);
    list.appendChild(item);
    return body;
  }
  var source = new EventSource(list.getAttribute("data-events") + "?after=" + list.getAttribute("data-seen"));
  source.onmessage = function (event) {
    var entry = JSON.parse(event.data);
    if (entry.kind === "stream") {
      if (!streaming) streaming = add("stream", "");
      streaming.textContent += entry.text;
      if (entry.text.slice(-1) === "\n") streaming = null;
      return;
    }
    streaming = null;
    add(entry.kind, entry.text);
    if (entry.kind === "ask") {
      label.textContent = entry.text;
      input.placeholder = entry["default"];
      input.value = "";
      input.focus();
    } else if (entry.kind === "done") {
      form.hidden = true;
    }
    window.scrollTo(0, document.body.scrollHeight);
  };
  source.addEventListener("end", function () { source.close(); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    var button = event.submitter;
    data.set("action", button ? button.value : "send");
    label.textContent = "Waiting for the next question…";
    fetch(form.getAttribute("action"), { method: "POST", body: data, headers: { "X-Overture-Fetch": "1" }, credentials: "same-origin" });
  });
})();
