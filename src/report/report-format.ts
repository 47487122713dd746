/** Text helpers of the HTML report: escaping, times in UTC, counts in words. */

const ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Escapes text for HTML and SVG, in element content and in quoted attributes alike. Every
 * string from the database (targets, services, networks, evidence) goes through it: a target
 * may be anything a list file said.
 */
export function escapeHtml(text: string): string {
  // Most text (times, statuses, counts) has nothing to escape: testing is cheaper than replacing.
  return NEEDS_ESCAPE.test(text) ? text.replace(/[&<>"']/g, (c) => ESCAPES[c]!) : text;
}

const NEEDS_ESCAPE = /[&<>"']/;

/** An ISO time as "2025-05-18 14:00 UTC" (with seconds when `seconds`); unparsable text is returned as it is. */
export function formatTime(iso: string | number, seconds = false): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const s = d.toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, seconds ? 19 : 16)} UTC`;
}

/** An ISO time as "18 May 2025", for headings. */
export function formatDay(iso: string | number): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  return `${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

