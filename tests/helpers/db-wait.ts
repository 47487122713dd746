/** Waiting on a database another process writes: the run under test, seen from outside. */
import Database from "better-sqlite3";

/** Resolves when `db` has at least `n` measurement rows (polled every 50 ms, for up to 15 s). */
export async function rowsAtLeast(db: string, n: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const c = new Database(db, { readonly: true, fileMustExist: true, timeout: 1000 });
      const got = (c.prepare("SELECT count(*) AS n FROM measurements").get() as { n: number }).n;
      c.close();
      if (got >= n) return;
    } catch {
      /* not created yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${db} never had ${n} measurements`);
}
