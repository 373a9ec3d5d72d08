/** Minimal self-contained HTML pages for links people open from emails (no scripts; CSP-friendly). */

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}
button{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #444;background:#222;color:#fff;cursor:pointer}</style>
</head><body><h1>${escape(title)}</h1>${body}</body></html>`;
}

/**
 * A page whose only action is a POST form: link scanners and mail-client prefetchers issue GETs,
 * so a GET never changes anything (RFC 8058: only the POST unsubscribes).
 */
export function confirmActionPage(title: string, text: string, action: string, button: string): string {
  return page(
    title,
    `<p>${escape(text)}</p><form method="post" action="${escape(action)}"><button type="submit">${escape(button)}</button></form>`,
  );
}

export function messagePage(title: string, text: string): string {
  return page(title, `<p>${escape(text)}</p>`);
}
