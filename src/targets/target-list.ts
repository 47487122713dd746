/** What loading a target list gives: the targets, and for `targets show` each endpoint's role and source. */
import type { ListSource } from "./list-format.js";
import type { Target } from "./target.js";

/** What a loaded list gives the runner. */
export interface TargetList {
  targets: Target[];
  /** A target expected to be reachable everywhere, checked to tell "offline" from "blocked". */
  canary?: Target;
  name?: string;
  description?: string;
}

/** One endpoint with what the list says about it, for `reachprobe targets show`. */
export interface ListEndpoint {
  target: Target;
  /** What the endpoint is for ("web front", "client: data centre 2"). */
  role?: string;
  /** Where it was found: an entry of the list's `sources`, or a note. */
  source?: ListSource | { note: string };
}

/** A list with its endpoints' roles and sources (`targets` holds the same endpoints, in order). */
export interface TargetListDetails extends TargetList {
  endpoints: ListEndpoint[];
  /** Every source cited by the list or by the lists it includes, without repeats. */
  sources: ListSource[];
  /** Bundled lists it includes, in order. */
  include: string[];
}

/** Options for loading target files. */
export interface LoadOptions {
  /**
   * Keep only Citizen Lab CSV rows with these category codes (case-insensitive). Codes are
   * checked against the category legend beside the CSV when there is one.
   */
  categories?: readonly string[];
}

/** Summary of one bundled list, for `reachprobe targets`. */
export interface BundledListInfo {
  name: string;
  description: string;
  services: string[];
  endpoints: number;
  /** Bundled lists it includes (empty for a list of its own endpoints). */
  include: string[];
}

/** Drops the details, so that the runner gets exactly a TargetList. */
export function plain(d: TargetListDetails): TargetList {
  return {
    targets: d.targets,
    ...(d.canary === undefined ? {} : { canary: d.canary }),
    ...(d.name === undefined ? {} : { name: d.name }),
    ...(d.description === undefined ? {} : { description: d.description }),
  };
}

