// An import's page while it runs (imports/show.html): the bars show the work done and follow it until
// it is over. A bar's width is set here, from its data-percent, because the policy blocks style="…".
(function () {
  var box = document.getElementById("progress");
  if (!box) return;
  box.querySelectorAll("[data-stage]").forEach(function (bar) { bar.style.width = bar.dataset.percent + "%"; });
  function poll() {
    fetch(box.dataset.url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) {
        // Signed out, or the upload discarded elsewhere: the page itself says what happened.
        if (!r.ok || (r.headers.get("Content-Type") || "").indexOf("json") < 0) { window.location.reload(); throw null; }
        return r.json();
      })
      .then(function (p) {
        if (p.state !== "queued" && p.state !== "running") { window.location.reload(); return; }
        box.querySelectorAll("[data-stage]").forEach(function (bar) {
          var stage = bar.dataset.stage, total = p[bar.dataset.total];
          bar.style.width = (total ? Math.round(100 * p[stage] / total) : 0) + "%";
          box.querySelector('[data-progress="' + stage + '"]').textContent = p[stage] + " / " + (total || "…");
        });
        setTimeout(poll, 1000);
      })
      .catch(function (error) { if (error !== null) { setTimeout(poll, 3000); } });
  }
  setTimeout(poll, 500);
})();
