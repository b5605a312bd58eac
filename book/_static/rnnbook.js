// rnnbook: on a phone, a figure is never shown below MIN_SCALE of the size it was drawn at.
// The book's figures are drawn at 100 dpi with text of 10 pt or more (13.9 px), so at 0.65
// their smallest text stays above 9 px; a wider figure scrolls sideways in its output box
// (book/_static/rnnbook.css). Above 40em the column is wide enough and nothing changes.
(() => {
  const MIN_SCALE = 0.65;
  const phone = window.matchMedia("(max-width: 40em)");
  const fit = (img) => {
    img.style.minWidth = phone.matches ? `${Math.round(img.naturalWidth * MIN_SCALE)}px` : "";
  };
  const fitAll = () => {
    for (const img of document.querySelectorAll("div.cell_output > img, .rnnbook-slider img")) {
      if (img.complete && img.naturalWidth) fit(img);
      else img.addEventListener("load", () => fit(img), { once: true });
    }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fitAll);
  else fitAll();
  phone.addEventListener("change", fitAll);
})();

// Inline math does not break across lines (MathJax 3): a formula wider than its paragraph
// (on a phone) scrolls sideways in its own box instead of widening the page.
(() => {
  const markWide = () => {
    for (const math of document.querySelectorAll("article mjx-container:not([display='true'])")) {
      const block = math.closest("p, li, dd, td, div");
      if (block && math.getBoundingClientRect().width > block.clientWidth) {
        math.classList.add("rnnbook-wide-math");
      }
    }
  };
  const whenTypeset = () => window.MathJax?.startup?.promise?.then(markWide);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", whenTypeset);
  else whenTypeset();
})();
