/**
 * A self-contained HTML page with no script: inline style only, a Content-Security-Policy that forbids every fetch,
 * no referrer. The shell of the reports that are read offline (schema drift, fan-out consistency); the caller
 * escapes everything it puts in `body`.
 */

/** The policy of a page without script. */
export const STATIC_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/** The style of the static reports: tables, verdicts and findings. */
export const STATIC_PAGE_CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1b1f24}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f6f8fa}
.unsafe{color:#a40e26;font-weight:600}.safe{color:#1a7f37}.ok{color:#1a7f37}.fail{color:#a40e26}pre{margin:0;white-space:pre-wrap;font-size:12px}`;

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * The start of every page the app renders, up to `</head>`: its Content-Security-Policy, a viewport, no referrer,
 * the title (escaped here) and its inline style.
 */
export function pageHead(title: string, csp: string, css: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${css}</style>
</head>`;
}

/** The whole document: `title` is escaped here, `body` must already be safe HTML. */
export function staticPage(title: string, body: string): string {
  return `${pageHead(title, STATIC_PAGE_CSP, STATIC_PAGE_CSS)}
<body>
${body}
</body>
</html>
`;
}
