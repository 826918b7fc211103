// Progressive enhancement only: every form works without this file.
// 1. Cancel asks first, in a dialog (without script, the server asks on a page of its own).
// 2. Live pages (the inbox, an approval, a job) redraw what changed, in place, when told to.
// 3. A draft is folded on a phone (Approve stays in sight) and unfolded on a wider screen.
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
})();
(function () {
  "use strict";
  var wide = window.matchMedia ? window.matchMedia("(min-width: 48rem)") : null;
  function unfold(root) {
    if (!wide || !wide.matches) return;
    var folds = root.querySelectorAll ? root.querySelectorAll("details[data-fold]") : [];
    for (var i = 0; i < folds.length; i++) folds[i].open = true;
  }
  // What each part looked like as served, to tell a changed part from one the person opened.
  function remember(node) {
    if (node.id) node.overtureServed = node.outerHTML;
    for (var i = 0; i < node.children.length; i++) remember(node.children[i]);
  }
  function morph(current, fresh) {
    var byId = {};
    for (var i = 0; i < current.children.length; i++) {
      var child = current.children[i];
      if (child.id) byId[child.id] = child;
    }
    var next = [];
    for (var k = 0; k < fresh.children.length; k++) {
      var wanted = fresh.children[k];
      var old = wanted.id ? byId[wanted.id] : null;
      if (old && old.overtureServed === wanted.outerHTML) {
        next.push(old);
      } else if (old && old.hasAttribute("data-keyed") && wanted.hasAttribute("data-keyed")) {
        morph(old, wanted);
        next.push(old);
      } else {
        var made = document.importNode(wanted, true);
        remember(made);
        unfold(made);
        next.push(made);
      }
    }
    for (var n = 0; n < next.length; n++) {
      if (current.children[n] !== next[n]) current.insertBefore(next[n], current.children[n] || null);
    }
    while (current.children.length > next.length) current.removeChild(current.lastElementChild);
  }
  var main = document.querySelector("main[data-live]");
  if (main) remember(main);
  unfold(document);
  if (!main || !window.EventSource || !window.fetch || !window.DOMParser) return;
  var busy = false;
  var again = false;
  function redraw() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(main.getAttribute("data-page"), { credentials: "same-origin", headers: { "X-Overture-Fetch": "1" } })
      .then(function (response) {
        if (response.redirected || !response.ok) { window.location.reload(); return null; }
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("main");
        if (fresh) morph(main, fresh);
        if (doc.title) document.title = doc.title;
      })
      .catch(function () { /* offline for a moment: the next change tries again */ })
      .then(function () {
        busy = false;
        if (again) { again = false; redraw(); }
      });
  }
  var source = new EventSource(main.getAttribute("data-live"));
  source.addEventListener("change", redraw);
  source.addEventListener("end", function () { source.close(); });
})();
// 4. A skill session's turns stream in as they are produced, and answers post in place.
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
