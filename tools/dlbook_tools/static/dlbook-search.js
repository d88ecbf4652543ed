// Search excerpts from a page's prose (dlbook_tools.sphinx_ext). Sphinx cuts the excerpt from the whole
// [role="main"], which in this theme also holds the page header, its contents list and the code cells,
// and keeps their white space: excerpts began with the title and "내용" / "Contents", or a code comment.
// Here the text is the article's prose only, white space collapsed. Runs after searchtools.js defines
// Search; excerpts are cut later, when each result's page arrives.
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Search === "undefined") return;
  Search.htmlToText = (htmlString, anchor) => {
    const doc = new DOMParser().parseFromString(htmlString, "text/html");
    const article = doc.querySelector("article.bd-article");
    if (!article) return "";
    const root = (anchor && article.querySelector(anchor)) || article;
    root.querySelectorAll("h1, .headerlink, script, style, div.cell, .math, .toctree-wrapper, .admonition-title")
      .forEach((e) => e.remove());
    return root.textContent.replace(/\s+/g, " ").trim();
  };
});
