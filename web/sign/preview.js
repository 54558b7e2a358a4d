// The PDF preview of the signing page (issue 15 item 3): pdf.js (vendored
// from npm at build time, web/vendor) draws the pages of the document the
// citizen is asked to sign into canvases inside this page, so the citizen
// reads the document itself, with no plugin and no other origin.  The
// parser runs in pdf.js's worker, allowed by the page's CSP as
// worker-src 'self'; no eval (isEvalSupported false: the font-compilation
// path behind CVE-2024-4367), no XFA, no scripting, and nothing fetched but
// the bytes handed over (no standard-font or wasm URLs).
import { setText } from '/web/common/i18n.js';

// Pages drawn at most; the rest is read in the downloaded file.
const MAX_PAGES = 30;
const BASE = '/web/vendor/pdfjs/';
let loaded = null;

function pdfjs() {
  if (!loaded) {
    loaded = import(BASE + 'pdf.min.mjs').then((lib) => {
      lib.GlobalWorkerOptions.workerSrc = BASE + 'pdf.worker.min.mjs';
      return lib;
    });
  }
  return loaded;
}

async function drawPage(doc, i, container) {
  const page = await doc.getPage(i);
  const natural = page.getViewport({ scale: 1 });
  const width = Math.max(container.clientWidth, 280);
  const ratio = window.devicePixelRatio || 1;
  const viewport = page.getViewport({ scale: (width / natural.width) * ratio });
  const figure = document.createElement('figure');
  const canvas = document.createElement('canvas');
  canvas.width = Math.floor(viewport.width);
  canvas.height = Math.floor(viewport.height);
  // the caption says which page this is; the picture adds nothing a
  // screen reader could read (the text is in the downloaded PDF)
  canvas.setAttribute('aria-hidden', 'true');
  const caption = document.createElement('figcaption');
  setText(caption, 'sign.preview.page', { i, n: doc.numPages });
  figure.append(canvas, caption);
  container.append(figure);
  await page.render({ canvas, viewport }).promise;
  page.cleanup();
}

// Draws bytes (an ArrayBuffer of a PDF) into container; returns the
// number of pages the document has.
export async function renderPdf(bytes, container) {
  const lib = await pdfjs();
  const task = lib.getDocument({
    data: new Uint8Array(bytes), isEvalSupported: false, enableXfa: false,
    useSystemFonts: true, stopAtErrors: false });
  const doc = await task.promise;
  try {
    const shown = Math.min(doc.numPages, MAX_PAGES);
    for (let i = 1; i <= shown; i++) await drawPage(doc, i, container);
    if (shown < doc.numPages) {
      const more = document.createElement('p');
      more.className = 'note';
      setText(more, 'sign.preview.more', { shown, n: doc.numPages });
      container.append(more);
    }
    return doc.numPages;
  } finally {
    await task.destroy();
  }
}
