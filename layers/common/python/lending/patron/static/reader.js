// The patron space's reader: epub.js opens the book resource by resource, each fetched under the
// signed URL the page was given (the hub never hands the EPUB over whole).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("reader-data").textContent);
  var errorBox = document.getElementById("reader-error");
  var where = document.getElementById("where");

  function fail(key) {
    errorBox.textContent = data.messages[key] || data.messages.reader_failed;
    errorBox.hidden = false;
  }

  function signed(url) {
    if (url.indexOf(data.base) !== 0) { return null; }
    var path = url.slice(data.base.length).split(/[?#]/)[0].split("/").map(decodeURIComponent).join("/");
    var query = data.signed[path];
    return query ? data.base + path.split("/").map(encodeURIComponent).join("/") + "?" + query : null;
  }

  var XML = { xml: "text/xml", opf: "text/xml", ncx: "text/xml", xhtml: "application/xhtml+xml",
              html: "text/html", htm: "text/html" };

  // epub.js's request contract: (url, type) -> a promise of a parsed document, JSON, blob or bytes.
  function request(url, type) {
    var target = signed(url);
    if (!target) { return Promise.reject(new Error("not in this book: " + url)); }
    var ext = url.split(/[?#]/)[0].split(".").pop().toLowerCase();
    type = type || ext;
    return fetch(target, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (!r.ok) {
        return r.text().then(function (reason) { fail(reason); throw new Error(reason); });
      }
      if (type === "blob") { return r.blob(); }
      if (type === "binary") { return r.arrayBuffer(); }
      if (type === "json") { return r.json(); }
      return r.text().then(function (text) {
        var mime = XML[type];
        return mime ? new DOMParser().parseFromString(text, mime) : text;
      });
    });
  }

  var book = ePub(data.base, { requestMethod: request, replacements: "blobUrl", openAs: "directory" });
  var rendition = book.renderTo("viewer", { width: "100%", height: "100%", flow: "paginated",
                                            spread: "none", allowScriptedContent: false });
  rendition.on("rendered", function (section, view) {  // a frame is named for screen readers
    if (view && view.iframe) { view.iframe.setAttribute("title", data.label); }
  });
  rendition.on("relocated", function (location) {
    where.textContent = location.start.href + (location.start.displayed ?
      " · " + location.start.displayed.page + "/" + location.start.displayed.total : "");
  });
  rendition.display().catch(function () { fail("reader_failed"); });
  document.getElementById("prev").addEventListener("click", function () { rendition.prev(); });
  document.getElementById("next").addEventListener("click", function () { rendition.next(); });
  function keys(e) {
    if (e.key === "ArrowLeft") { rendition.prev(); }
    if (e.key === "ArrowRight") { rendition.next(); }
  }
  document.addEventListener("keyup", keys);
  rendition.on("keyup", keys);
})();
