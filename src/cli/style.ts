/** Colours for human output: only on a TTY, never with NO_COLOR (https://no-color.org). */

/** True when NO_COLOR is set (to anything but ""), as `--no-color` sets it (src/cli/main.ts). */
export function noColorAsked(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NO_COLOR !== undefined && env.NO_COLOR !== "";
}

/** Whether to colour output written to `stream`. */
export function useColor(stream: NodeJS.WriteStream): boolean {
  if (noColorAsked()) return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== "0") return true;
  return Boolean(stream.isTTY);
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 } as const;

/** A colour function set; identity functions when colour is off. */
export type Paint = Record<keyof typeof CODES, (s: string) => string>;

/** Builds the colour functions for a stream. */
export function paintFor(on: boolean): Paint {
  const out = {} as Paint;
  for (const [name, code] of Object.entries(CODES) as Array<[keyof typeof CODES, number]>) {
    out[name] = on ? (s) => `\u001b[${code}m${s}\u001b[${name === "bold" ? 22 : 39}m` : (s) => s;
  }
  return out;
}
