// The resolve hook behind module-versions.ts, registered with node:module's register() and run on
// Node's hooks thread: it imports nothing of sspi-emu, and keeps its state in this module.
//
// A module imported with `?v=N` and no versioned parent is the entry of a package's version N: its
// folder becomes the version's root. A file: URL resolved from a versioned parent, inside that
// root and not under node_modules, gets the same `?v=N` (and is itself a versioned parent); every
// other import resolves as Node resolves it.

import { dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const PARAM = 'v';

/** The root folder (with a trailing separator) of each versioned module's version, by URL. */
const roots = new Map<string, string>();

interface ResolveContext {
  parentURL?: string;
}

interface Resolved {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}

type NextResolve = (specifier: string, context: ResolveContext) => Promise<Resolved>;

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): Promise<Resolved> {
  const resolved = await nextResolve(specifier, context);
  if (!resolved.url.startsWith('file:')) return resolved;
  const url = new URL(resolved.url);
  const parent = context.parentURL;
  const root = parent === undefined ? undefined : roots.get(parent);
  if (root === undefined) {
    // An entry: a version's first module (its root is its folder), or anything else (left alone).
    if (url.searchParams.has(PARAM) && !roots.has(url.href)) roots.set(url.href, dirname(fileURLToPath(url)) + sep);
    return resolved;
  }
  const path = fileURLToPath(url);
  if (!path.startsWith(root) || path.slice(root.length).split(sep).includes('node_modules')) return resolved;
  url.searchParams.set(PARAM, new URL(parent!).searchParams.get(PARAM)!);
  roots.set(url.href, root);
  return { ...resolved, url: url.href };
}
