// Copy buttons: <button data-copy="#id">; the rest of the console works without JS.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  const text = source.value !== undefined ? source.value : source.textContent;
  try {
    await navigator.clipboard.writeText(text.trim());
    button.textContent = "Copied";
  } catch (error) {
    if (source.select) source.select();
    button.textContent = "Press Ctrl+C to copy";
  }
});
