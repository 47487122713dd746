/**
 * The control helper's URL as it may be stored and printed. Credentials in it (a user name and
 * password for a reverse proxy, a token in the query) are sent to the helper (client.ts) and
 * nowhere else. No dependencies: the CLI's option parsing loads it.
 */

/** Stands in for a user name, password or query value of a helper URL wherever it is stored or printed. */
const MASK = "***";

/**
 * The helper URL as it may be stored (runs.options_json, control_json) and printed (logs,
 * --json, errors): user name, password and every query value masked, fragment dropped.
 */
export function redactControlUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username) u.username = MASK;
    if (u.password) u.password = MASK;
    if (u.search) {
      const masked = new URLSearchParams();
      for (const [k] of u.searchParams) masked.append(k, MASK);
      u.search = masked.toString();
    }
    u.hash = "";
    return u.href;
  } catch {
    return "(not a URL)";
  }
}

