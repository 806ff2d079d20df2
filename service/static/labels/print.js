// The label pages' Print button (labels/label.html, labels/sheet.html): the browser's print dialog.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
