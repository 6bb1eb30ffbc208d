// The tab's icon carries the unread count: the page's own icon with a red badge drawn on it.

let original = null;
let image = null;
let shown = -1;

function iconLink() {
  return document.querySelector('link[rel="icon"]');
}

/** Draws `n` (0: the plain icon again) on the favicon. */
export function setFaviconCount(n) {
  const link = iconLink();
  if (!link || n === shown) return;
  if (original === null) original = link.href;
  shown = n;
  if (n <= 0) {
    link.href = original;
    return;
  }
  const draw = () => {
    if (shown !== n) return;
    const size = 64;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    try {
      ctx.drawImage(image, 0, 0, size, size);
    } catch {
      /* the icon did not load: the badge alone says it */
    }
    const text = n > 99 ? "99+" : String(n);
    const r = text.length > 1 ? 22 : 18;
    ctx.fillStyle = "#d93025";
    ctx.beginPath();
    ctx.arc(size - r, size - r, r, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = "#fff";
    ctx.font = `bold ${text.length > 2 ? 18 : text.length > 1 ? 24 : 28}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(text, size - r, size - r + 1);
    link.type = "image/png";
    link.href = canvas.toDataURL("image/png");
  };
  if (image?.complete) return draw();
  image = new Image();
  image.onload = draw;
  image.onerror = draw;
  image.src = original;
}
