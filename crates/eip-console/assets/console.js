// The console's few scripted conveniences; every page works without them.
// Copy buttons put an address on the clipboard; the header checkbox selects
// every row of the page. Delegated from the document, so rows that htmx
// swaps in keep working.
document.addEventListener("click", function (ev) {
  var copy = ev.target.closest("button.copy");
  if (copy) {
    var text = copy.getAttribute("data-copy");
    var shown = function () {
      copy.textContent = "Copied";
      setTimeout(function () { copy.textContent = "Copy"; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(shown);
    } else {
      var area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
      shown();
    }
  }
  var all = ev.target.closest("input.select-all");
  if (all) {
    document.querySelectorAll('input[name="id"][form="batch"]').forEach(function (box) {
      box.checked = all.checked;
    });
  }
});
