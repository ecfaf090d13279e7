// Parts of a page marked data-refresh="<url>" are fetched again every two seconds and replaced, until the fragment
// says it is done (data-done="true"): new runs appear, a bulk re-run's progress moves, without reloading the page.
(() => {
  const every = 2000;
  for (const part of document.querySelectorAll("[data-refresh]")) {
    const url = part.getAttribute("data-refresh");
    if (!url) continue;
    const tick = async () => {
      try {
        const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } });
        if (response.ok) part.innerHTML = await response.text();
      } catch { /* the next tick tries again */ }
      if (!part.querySelector('[data-done="true"]')) setTimeout(tick, every);
    };
    setTimeout(tick, every);
  }
})();
