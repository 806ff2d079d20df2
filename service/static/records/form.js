// The record form (records/form.html).
{
  // Show the conclusion for verifications and the confirmation for calibrations only.
  const kind = document.getElementById("f-kind");
  const toggleKind = () => document.querySelectorAll("[data-kind-only]").forEach((el) => {
    el.hidden = !el.dataset.kindOnly.split(" ").includes(kind.value);
    el.querySelectorAll("select, input").forEach((field) => { field.disabled = el.hidden; });  // not posted
  });
  kind.addEventListener("change", toggleKind);
  toggleKind();
  // Another row: a copy of the last one, renumbered and emptied.
  document.querySelectorAll("[data-add-row]").forEach((button) => button.addEventListener("click", () => {
    const body = document.querySelector(`#${button.dataset.addRow} tbody`);
    const last = body.lastElementChild;
    const next = last.cloneNode(true);
    const index = body.children.length;
    next.querySelectorAll("input, select").forEach((el) => {
      el.name = el.name.replace(/-\d+-/, `-${index}-`);
      el.classList.remove("is-invalid");
      if (el.tagName === "INPUT") el.value = "";
    });
    next.querySelectorAll(".invalid-feedback").forEach((el) => el.remove());
    body.appendChild(next);
  }));
}
