// The ledger list (ledger/list.html): the header's box selects every row for the bulk change.
{
  const all = document.getElementById("select-all");
  if (all) all.addEventListener("change", () => document.querySelectorAll(".row-select").forEach(b => b.checked = all.checked));
}
