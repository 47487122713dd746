/** The SQL that the documentation shows analysts, read from the page so that tests run it as written. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The database documentation (docs/database.md). */
export const DATABASE_DOC = fileURLToPath(new URL("../../docs/database.md", import.meta.url));

/**
 * The ```sql blocks of the section `heading` (e.g. "## Example queries") of a Markdown page,
 * up to the next heading of its level or above.
 */
export function sqlBlocks(heading: string, page = DATABASE_DOC): string[] {
  const text = readFileSync(page, "utf8");
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`${page} has no "${heading}" section`);
  const rest = text.slice(start + heading.length + 2);
  const level = /^#+/.exec(heading)![0].length;
  const end = rest.search(new RegExp(`\\n#{1,${level}} `));
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
}
