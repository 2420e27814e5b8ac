/* Running total and remainder, exact: amounts become whole numbers of the currency's minor
   unit (BigInt), never floating point. Without script the form still works. */
(function () {
  var editor = document.getElementById("tranche-editor");
  if (!editor || typeof BigInt === "undefined") { return; }
  var precision = JSON.parse(editor.dataset.precision);
  var rows = document.getElementById("tranche-rows");
  var amountInput = document.getElementById("id_amount");
  var currencyInput = document.getElementById("id_currency");
  var msg = document.getElementById("tranche-messages").content;
  function text(name) { return msg.querySelector("[data-" + name + "]").textContent; }
  function places() {
    var p = precision[(currencyInput.value || "").trim().toUpperCase()];
    return p === undefined ? 2 : p;
  }
  // Amounts as the reader's language writes them ("1,000,000.5"; "1 000 000,5"; "1.000.000,5"),
  // read as the server reads them (portal.ui.formats.parse_decimal): the locale's form first
  // (groups of three, its decimal sign), otherwise plain digits with a point.
  var decimalSign = editor.dataset.decimal || ".", groupSign = (editor.dataset.group || ",").trim();
  function esc(c) { return c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }
  var dec = esc(decimalSign), grp = groupSign ? esc(groupSign) : "";
  var grouped = grp ? new RegExp("^\\d{1,3}(?:" + grp + "\\d{3})+(?:" + dec + "\\d*)?$") : null;
  var ungrouped = new RegExp("^\\d+" + dec + "\\d*$");
  function plain(value) {
    value = (value || "").trim();
    if (!grp) { value = value.replace(/[\s\u00a0\u202f]/g, ""); }
    if ((grouped && grouped.test(value)) || ungrouped.test(value)) {
      if (grp) { value = value.split(groupSign).join(""); }
      return value.split(decimalSign).join(".");
    }
    return value;
  }
  function parse(value, p) {
    value = plain(value);
    var m = /^(\d+)(?:\.(\d*))?$/.exec(value);
    if (!m) { return null; }
    var frac = (m[2] || "").replace(/0+$/, "");
    if (frac.length > p) { return null; }
    return BigInt(m[1] + frac.padEnd(p, "0"));
  }
  function show(units, p) {
    var negative = units < 0n; if (negative) { units = -units; }
    var s = units.toString().padStart(p + 1, "0");
    var whole = p ? s.slice(0, -p) : s, frac = p ? "." + s.slice(-p) : "";
    return (negative ? "-" : "") + whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + frac;
  }
  function renumber() {
    Array.prototype.forEach.call(rows.querySelectorAll(".tranche-row"), function (row, i) {
      var n = i + 1;
      row.querySelector(".tranche-number").textContent = n;
      var labels = row.querySelectorAll("label"), inputs = row.querySelectorAll("input");
      ["due", "amount"].forEach(function (kind, k) {
        inputs[k].id = "tranche-" + kind + "-" + n;
        labels[k].htmlFor = inputs[k].id;
        labels[k].textContent = text(kind) + " " + n;
      });
    });
  }
  function update() {
    var p = places(), total = 0n, bad = false;
    rows.querySelectorAll("input[name=tranche_amount]").forEach(function (input) {
      if (!input.value.trim()) { input.removeAttribute("aria-invalid"); return; }
      var v = parse(input.value, p);
      if (v === null) { bad = true; input.setAttribute("aria-invalid", "true"); }
      else { input.removeAttribute("aria-invalid"); total += v; }
    });
    var amount = parse(amountInput.value, p);
    document.getElementById("tranche-total").textContent = show(total, p);
    document.getElementById("tranche-remainder").textContent = amount === null ? "—" : show(amount - total, p);
    var status = "";
    if (bad) { status = text("bad"); }
    else if (amount !== null && total === amount) { status = text("ok"); }
    else if (amount !== null && total > amount) { status = text("over"); }
    document.getElementById("tranche-status").textContent = status;
  }
  document.getElementById("add-tranche").addEventListener("click", function () {
    var last = rows.querySelector(".tranche-row:last-child");
    var row = last.cloneNode(true);
    row.querySelectorAll("input").forEach(function (input) { input.value = ""; input.removeAttribute("aria-invalid"); });
    rows.appendChild(row);
    renumber(); update();
    row.querySelector("input").focus();
  });
  rows.addEventListener("click", function (event) {
    var button = event.target.closest(".remove-tranche");
    if (!button) { return; }
    var row = button.closest(".tranche-row");
    if (rows.querySelectorAll(".tranche-row").length > 1) { row.remove(); }
    else { row.querySelectorAll("input").forEach(function (input) { input.value = ""; }); }
    renumber(); update();
    document.getElementById("add-tranche").focus();
  });
  editor.addEventListener("input", update);
  amountInput.addEventListener("input", update);
  currencyInput.addEventListener("input", update);
  editor.querySelectorAll("[hidden]").forEach(function (el) { el.hidden = false; });
  update();
})();
