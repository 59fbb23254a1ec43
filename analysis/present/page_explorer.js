// The multiverse chooser of the report page (analysis.page_explorer): looks rows up, writes text.
(function () {
  "use strict";
  var root = document.getElementById("kfm-multiverse");
  var data = JSON.parse(document.getElementById("kfm-multiverse-data").textContent);
  var ncol = data.columns.length;
  var selects = [].slice.call(root.querySelectorAll("select"));
  var shown = {};
  [].slice.call(root.querySelectorAll("[data-show]")).forEach(function (el) { shown[el.getAttribute("data-show")] = el; });
  var status = root.querySelector(".kfm-mv-status");
  var marker = root.querySelector(".kfm-mv-marker");
  var markerLine = root.querySelector(".kfm-mv-marker-line");
  var curves = [].slice.call(root.querySelectorAll("[data-curve]"));
  var index = {};
  data.rows.forEach(function (row, i) { index[row.slice(0, ncol).join(",")] = i; });
  var start = data.rows[data.default === null ? 0 : data.default] || [];
  selects.forEach(function (select, j) {
    data.columns[j].labels.forEach(function (label, value) {
      var option = document.createElement("option");
      option.value = String(value);
      option.textContent = label;
      select.appendChild(option);
    });
    select.value = String(start[j] || 0);
    select.addEventListener("change", show);
  });
  function write(key, text) { shown[key].textContent = text; }
  function show() {
    var key = selects.map(function (s) { return s.value; }).join(",");
    var i = index[key];
    var row = i === undefined ? null : data.rows[i];
    root.setAttribute("data-specification", row ? String(i) : "");
    marker.style.display = markerLine.style.display = "none";
    if (!row) {
      status.textContent = "No such specification: the sample left out is not among this specification's samples.";
      ["estimate", "interval", "patients", "studies", "place"].forEach(function (k) { write(k, "–"); });
      return;
    }
    var c = ncol;
    var reason = data.reasons[row[c + 8]];
    status.textContent = "Specification " + (i + 1) + " of " + data.size + (i === data.default ? " (the plan's primary analysis)" : "") +
      (reason ? ": no estimate. " + reason : ".");
    write("estimate", row[c] || "–");
    write("interval", row[c + 1] || "–");
    write("patients", row[c + 3]);
    write("studies", row[c + 2] ? data.studies[row[c + 4]] + " (k = " + row[c + 2] + ")" : "none");
    if (row[c + 5] === null) { write("place", "not on the curve (no estimate)"); return; }
    write("place", "rank " + row[c + 5] + " of " + row[c + 6] + " (lowest first); " + row[c + 7] +
      " of the specifications give a higher estimate");
    curves.forEach(function (g) { g.style.display = g.getAttribute("data-curve") === row[c + 11] ? "" : "none"; });
    marker.setAttribute("cx", row[c + 9]);
    marker.setAttribute("cy", row[c + 10]);
    markerLine.setAttribute("x1", row[c + 9]);
    markerLine.setAttribute("x2", row[c + 9]);
    marker.style.display = markerLine.style.display = "";
  }
  root.querySelector("form").hidden = false;
  root.querySelector(".kfm-mv-result").hidden = false;
  show();
}());
