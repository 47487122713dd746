/** Gathering a list's targets and every problem with them, for the three list parsers. */
import { ProblemList, quote } from "../base/read-file.js";
import { TargetError } from "./errors.js";
import { parseTarget } from "./parse.js";
import type { Target } from "./target.js";
import type { ListEndpoint, TargetListDetails } from "./target-list.js";

/** Collects parsed targets and problems, rejecting repeats of one canonical input. */
export class Collector {
  readonly targets: Target[] = [];
  readonly endpoints: ListEndpoint[] = [];
  readonly problems = new ProblemList();
  private readonly firstSeen = new Map<string, string>();

  /**
   * `defaultService` is the service of targets the list gives none: the list file's name
   * (`my-targets.txt`), so that a report says "my-targets.txt partly blocked", not "(none)".
   */
  constructor(private readonly defaultService: string = "(none)") {}

  add(text: string, service: string | undefined, origin: string, about: Omit<ListEndpoint, "target"> = {}): void {
    const target = this.parse(text, service, origin);
    if (target !== undefined) this.addTarget(target, origin, about);
  }

  addTarget(target: Target, origin: string, about: Omit<ListEndpoint, "target"> = {}): void {
    const first = this.firstSeen.get(target.input);
    if (first !== undefined) {
      this.problems.add(`${origin}: duplicate target ${quote(target.input)} (first at ${first})`);
      return;
    }
    this.firstSeen.set(target.input, origin);
    this.targets.push(target);
    this.endpoints.push({ target, ...about });
  }

  parse(text: string, service: string | undefined, origin: string): Target | undefined {
    try {
      return parseTarget(text, service ?? this.defaultService, origin);
    } catch (err) {
      if (!(err instanceof TargetError)) throw err;
      this.problems.add(err.message);
      return undefined;
    }
  }

  finish(file: string, list: Omit<TargetListDetails, "targets" | "endpoints">): TargetListDetails {
    const n = this.problems.count;
    if (n > 0) {
      const head = `${file}: ${n} problem${n === 1 ? "" : "s"}, no targets loaded:`;
      throw new TargetError(`${head}\n  ${this.problems.lines().join("\n  ")}`, this.problems.kept);
    }
    return { ...list, targets: this.targets, endpoints: this.endpoints };
  }
}
