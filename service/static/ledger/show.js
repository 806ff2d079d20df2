// The instrument page (ledger/show.html): the replacement field shows for a "replace" request only.
{
  const action = document.getElementById("action");
  const replacement = document.getElementById("replacement-field");
  if (action && replacement) {
    const toggle = () => replacement.classList.toggle("d-none", action.value !== "replace");
    action.addEventListener("change", toggle);
    toggle();
  }
}
