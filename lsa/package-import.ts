// Importing one package module for the LSA: the entry of the "Security Packages" list resolved to
// a module URL, imported within a deadline, and, when that fails, a reason a package author can
// act on. Node's own messages name the LSA's loader as the importer and say nothing of why a file
// was read as CommonJS; what is added here says which file, and what to change.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeError } from '../ipc/index.js';
import { BUILTIN_PACKAGES } from './config.js';

/** Why a module could not be imported, as the loader reports it. */
export interface ImportFailure {
  stage: 'resolve' | 'import';
  reason: string;
}

/** The module URL of a "Security Packages" entry: a built-in name, a file: URL or a path (relative to the working directory). */
export function resolvePackageSpec(spec: string): URL {
  const builtin = BUILTIN_PACKAGES.get(spec.toLowerCase());
  if (builtin !== undefined) return builtin;
  if (spec.startsWith('file:')) return new URL(spec);
  if (spec.includes('/') || spec.includes('\\') || /\.(m?js|cjs|ts|mts)$/.test(spec)) return pathToFileURL(spec);
  throw new Error(`${JSON.stringify(spec)} is neither a built-in package (${[...BUILTIN_PACKAGES.keys()].join(', ')}) nor a module path`);
}

/**
 * Imports `url` (the module named by `spec`). Its top level must settle within `deadlineMs`: a
 * top-level await that never finishes would otherwise leave the LSA waiting on it, and a worker
 * whose only pending work is such an await exits (code 13). The module's evaluation goes on
 * regardless (nothing can cancel it); the LSA only stops waiting for it. A top level that runs
 * synchronously forever cannot be stopped here at all: it holds the LSA's one thread, and the
 * machine's boot deadline (machine/boot-watch.ts) reports it.
 */
export async function importPackageModule(
  spec: string,
  url: URL,
  deadlineMs: number,
): Promise<{ ok: true; module: Record<string, unknown> } | { ok: false; failure: ImportFailure }> {
  const missing = missingFile(url);
  if (missing !== undefined) return { ok: false, failure: { stage: 'resolve', reason: missing } };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    // Not unref'd: this timer is what keeps the LSA's thread alive while the module's top level waits.
    timer = setTimeout(() => resolve('deadline'), deadlineMs);
  });
  try {
    const imported = await Promise.race([import(url.href) as Promise<Record<string, unknown>>, deadline]);
    if (imported === 'deadline')
      return {
        ok: false,
        failure: {
          stage: 'import',
          reason: `its top level did not settle within ${deadlineMs} ms (a top-level await that never finishes?); the LSA goes on without it`,
        },
      };
    return { ok: true, module: imported };
  } catch (error) {
    return { ok: false, failure: { stage: 'import', reason: importFailureReason(spec, url, error) } };
  } finally {
    clearTimeout(timer);
  }
}

/** A file URL that names no file, or a directory, said plainly (with the file the author likely meant). */
function missingFile(url: URL): string | undefined {
  if (url.protocol !== 'file:') return undefined;
  const path = fileURLToPath(url);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    const guess = ['.js', '.mjs'].map((ext) => path + ext).find((p) => existsSync(p));
    // ES modules are imported by their full file name: Node adds no extension.
    return `no such file: ${path}${guess === undefined ? '' : ` (did you mean ${guess}? ES modules are named with their extension)`}`;
  }
  if (isDirectory) {
    const index = join(path, 'index.js');
    return `${path} is a directory; name the module file${existsSync(index) ? ` (${index}?)` : ''}`;
  }
  return undefined;
}

/** Node's reason for an import that failed, with what to change where Node's own message does not say it. */
function importFailureReason(spec: string, url: URL, error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const reason = error instanceof SyntaxError ? `SyntaxError: ${message}${syntaxErrorPlace(url)}` : describeError(error);
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.m?ts$/.test(url.pathname))
    return `${reason}: Node 20 does not run TypeScript; compile ${spec} (tsc) and load the .js it emits`;
  const commonJs = commonJsReason(url);
  if (
    commonJs !== undefined &&
    (code === 'ERR_REQUIRE_ESM' || /Cannot use import statement|Unexpected token 'export'|exports is not defined|require is not defined/.test(message))
  )
    return `${reason}: ${commonJs}`;
  return reason;
}

/** The most modules followed from a package's entry to find the one with a syntax error. */
const MAX_CHECKED_MODULES = 200;

/**
 * Where a syntax error is: Node 20's import() gives only the message, so the module is checked
 * again (node --check, in a child process, on this failure only) for its file, line and the line
 * itself; a module that checks clean has it in one it imports, and the relative imports are
 * followed (depth first, each module once, up to MAX_CHECKED_MODULES) until one does not check.
 */
function syntaxErrorPlace(url: URL): string {
  if (url.protocol !== 'file:') return '';
  const seen = new Set<string>();
  const visit = (path: string): string | undefined => {
    if (seen.has(path) || seen.size >= MAX_CHECKED_MODULES) return undefined;
    seen.add(path);
    const place = checkModule(path);
    if (place !== undefined) return place;
    for (const imported of relativeImports(path)) {
      const found = visit(imported);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  const entry = fileURLToPath(url);
  const place = visit(entry);
  if (place === undefined) return ' (in a module it imports)';
  return place.startsWith(`${entry}:`) ? ` at ${place}` : ` in a module it imports, at ${place}`;
}

/** `node --check` of one module: its syntax error's "file:line: the line", or undefined when it checks clean (or cannot be read). */
function checkModule(path: string): string | undefined {
  try {
    execFileSync(process.execPath, ['--check', path], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5_000 });
    return undefined;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '');
    const [where, source] = stderr.split('\n');
    return where !== undefined && /:\d+$/.test(where) ? `${where}${source === undefined ? '' : `: ${source.trim()}`}` : undefined;
  }
}

/** The files a module imports by relative specifier ('./x.js', '../y.js'), as written in it: enough to find a syntax error's file. */
function relativeImports(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const file = join(dirname(path), m[1]!);
    if (existsSync(file) && statSync(file).isFile()) out.push(file);
  }
  return out;
}

/**
 * Why Node reads a file as CommonJS, or undefined for a file it reads as an ES module: a .cjs
 * name, or a .js file whose nearest package.json has no "type": "module".
 */
export function commonJsReason(url: URL): string | undefined {
  if (url.protocol !== 'file:') return undefined;
  const path = fileURLToPath(url);
  if (path.endsWith('.cjs'))
    return `Node reads ${path} as CommonJS (.cjs); sspi-emu loads packages as ES modules: name it .mjs or .js in a "type": "module" project`;
  if (!path.endsWith('.js')) return undefined;
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      let type: unknown;
      try {
        type = (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type;
      } catch {
        return undefined;
      }
      return type === 'module'
        ? undefined
        : `Node reads ${path} as CommonJS because ${manifest} has no "type": "module"; add it (sspi-emu packages are ES modules)`;
    }
    if (dirname(dir) === dir) return `Node reads ${path} as CommonJS because no package.json above it says "type": "module"; add one (or name the file .mjs)`;
  }
}
