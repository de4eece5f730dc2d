// Progressive helpers; every page works without them.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // "Select all" for the issue list's bulk actions.
  const all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", () => {
      for (const box of document.querySelectorAll("input.pick")) box.checked = all.checked;
    });
  }
  // Forms that ask before doing something hard to undo.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (e) => {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  }
  // Click a snippet to copy it.
  for (const el of document.querySelectorAll(".copyable")) {
    el.title = "Click to copy";
    el.addEventListener("click", () => {
      if (navigator.clipboard) navigator.clipboard.writeText(el.textContent.trim());
      el.classList.add("copied");
      setTimeout(() => el.classList.remove("copied"), 900);
    });
  }
  // A link into folded sections (#thread-3, #images) opens the folds around its target.
  const unfold = () => {
    const id = decodeURIComponent(location.hash.slice(1));
    for (let el = id && document.getElementById(id); el; el = el.parentElement) {
      if (el.tagName === "DETAILS") el.open = true;
    }
  };
  unfold();
  window.addEventListener("hashchange", unfold);
});
