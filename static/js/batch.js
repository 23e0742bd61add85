// The batch page: a scanner (or a person) types a receipt number or the QR's address and
// Enter; each line is checked at once and added to the list that the form sends.
(function () {
  "use strict";
  var form = document.getElementById("batch");
  var scan = document.getElementById("scan");
  if (!form || !scan) { return; }
  var list = document.getElementById("scanned");
  var tally = document.getElementById("tally");
  var receipts = document.getElementById("receipts");
  var to = document.getElementById("to");
  var point = document.getElementById("point");
  var fine = 0, wrong = 0;
  var taken = {};  // receipts already in the list: a second scan is dropped, with a note
  // The checks run at once, but their answers are shown in the order of the scans: a quick
  // answer for a later scan waits for the slower one before it, so that the list (and the
  // batch the form sends) is the pile in the order it was scanned.
  var shown = Promise.resolve();
  scan.closest(".field").hidden = false;

  function show(result) {
    var item = document.createElement("li");
    item.className = "line-" + result.state;
    item.textContent = (result.receipt || result.typed) + " — " + result.message;
    list.insertBefore(item, list.firstChild);
    var fits = result.state === "ok" || result.state === "elsewhere";  // elsewhere: asked later
    // Not checked (the network, or the session): it goes in as typed, and the batch's own
    // check reads it when the form is sent, as the line says.
    var unchecked = result.state === "error";
    var key = unchecked ? result.typed : result.receipt;
    if ((fits || unchecked) && taken[key]) {
      item.className = "line-repeated";
      item.textContent = key + " — " + form.dataset.repeated;
      return;
    }
    if (fits || unchecked) {
      taken[key] = true;
      receipts.value += (receipts.value && !receipts.value.endsWith("\n") ? "\n" : "") + key + "\n";
    }
    if (fits) {
      fine += 1;
    } else {
      wrong += 1;
    }
    tally.textContent = form.dataset.fine.replace("{n}", fine) + " · " + form.dataset.wrong.replace("{n}", wrong);
  }

  scan.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") { return; }
    event.preventDefault();
    var typed = scan.value.trim();
    scan.value = "";
    if (!typed) { return; }
    var query = new URLSearchParams({ no: typed, to: to.value, point: point ? point.value : "" });
    var answer = fetch(form.dataset.check + "?" + query.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .catch(function () { return { typed: typed, state: "error", message: form.dataset.offline }; });
    shown = shown.then(function () { return answer; }).then(show)
      .catch(function (error) { if (window.console) { console.error(error); } });  // the next scan still shows
  });
}());
