// Loading a new version of a package module into a thread that already imported an old one. An ES
// module cannot be unloaded from a V8 isolate, and importing the same URL again gives the module
// already there; a URL with a query is another module, so version N (from 2) of a package is
// imported as `index.js?v=N`. That alone would re-run only the entry file: its own imports
// (`./lsa.js`, `./wire.js`) resolve to the URLs already loaded. A resolve hook (module-hooks.ts),
// registered in the thread the first time it imports a second version, carries `?v=N` on to every
// file the versioned module imports from its own folder or below (not node_modules, not
// sspi-emu's own files outside that folder), so that the whole package is read again from disk
// while the modules it shares with the LSA (sspi-emu/kit, headers) stay the same instances.
//
// Node 20 runs module hooks per thread: the LSA and each app process register their own.

import { register } from 'node:module';

/** The query parameter that carries a package module's version. */
export const VERSION_PARAM = 'v';

let registered = false;

/** The URL of version `version` of the module at `url`: the URL itself for version 1, with `?v=N` after. */
export function versionedUrl(url: URL, version: number): URL {
  if (version <= 1) return url;
  const out = new URL(url.href);
  out.searchParams.set(VERSION_PARAM, String(version));
  return out;
}

/** The version a module URL names (1 without the parameter). */
export function moduleVersion(url: string): number {
  const value = new URL(url).searchParams.get(VERSION_PARAM);
  const n = value === null ? 1 : Number(value);
  return Number.isSafeInteger(n) && n >= 1 ? n : 1;
}

/**
 * Makes this thread's imports of a versioned module (a URL from versionedUrl with a version past
 * 1) read the module's own files again. Idempotent; costs nothing until a second version is
 * imported (a thread that never reloads registers nothing: hooks slow every later import).
 */
export function ensureVersionHooks(url: string): void {
  if (registered || moduleVersion(url) <= 1) return;
  register(new URL('./module-hooks.js', import.meta.url));
  registered = true;
}
