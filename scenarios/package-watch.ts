// Watching package modules for `run --watch` and `serve --watch`: when a package's built files
// change, the LSA loads the module again (Machine.lsa.reloadPackage) without a reboot.
//
// What is watched is the module's folder and below (not node_modules), since a build rewrites only
// the files whose output changed: an edit to lsa.ts changes dist/src/lsa.js and not the entry
// index.js. It is the same set of files a reload reads again (hosting/module-versions.ts). fs.watch
// reports writes, not changes: each reported .js/.mjs/.cjs file is read and hashed, and only a
// content that differs from the last one seen counts (a build that rewrites a file as it was, an
// editor's touch, a second event for one write: nothing). A change waits `debounceMs` for the
// rest of a build's writes; changes during a reload make one more reload after it.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeError } from '../ipc/index.js';
import { resolvePackageSpec, type ReloadReport } from '../lsa/index.js';

export interface PackageWatchHandlers {
  /** A reload finished: the new version runs. */
  reloaded(spec: string, report: ReloadReport): void;
  /** A reload failed: the old version runs on; the error says why (the module, the stage, the reason). */
  failed(spec: string, error: unknown): void;
  /** A file was reported written and read: whether its content changed (for tests and --verbose uses). */
  seen?(spec: string, file: string, changed: boolean): void;
}

export interface PackageWatchOptions {
  /** How long after the last change a reload waits for more (a build writes several files). Default 150 ms. */
  debounceMs?: number;
}

/** Files a watch hashes at most per module folder (a folder that holds more is not a package's build). */
const MAX_FILES = 5000;
const MODULE_FILES = new Set(['.js', '.mjs', '.cjs']);

/** One watched module: its folder, the content of its files as last seen, its pending reload. */
interface Watched {
  spec: string;
  root: string;
  hashes: Map<string, string>;
  watcher: FSWatcher;
  timer: NodeJS.Timeout | undefined;
  reloading: boolean;
  again: boolean;
}

export class PackageWatcher {
  private readonly watched: Watched[] = [];
  private readonly reload: (spec: string) => Promise<ReloadReport>;
  private readonly handlers: PackageWatchHandlers;
  private readonly debounceMs: number;
  private closed = false;

  /**
   * Watches the module of each "Security Packages" entry in `specs` (paths or file: URLs; a
   * built-in name watches sspi-emu's own build) and calls `reload` with the entry when its files
   * change. An entry that names no module throws, and nothing is watched.
   */
  constructor(specs: readonly string[], reload: (spec: string) => Promise<ReloadReport>, handlers: PackageWatchHandlers, options: PackageWatchOptions = {}) {
    this.reload = reload;
    this.handlers = handlers;
    this.debounceMs = options.debounceMs ?? 150;
    try {
      for (const spec of specs) this.watched.push(this.watch(spec));
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Stops watching; a reload under way finishes, none starts. */
  close(): void {
    this.closed = true;
    for (const w of this.watched) {
      clearTimeout(w.timer);
      w.watcher.close();
    }
  }

  private watch(spec: string): Watched {
    const url = resolvePackageSpec(spec);
    if (url.protocol !== 'file:') throw new Error(`cannot watch ${spec}: not a module file`);
    const root = dirname(fileURLToPath(url));
    const hashes = new Map<string, string>();
    for (const file of moduleFiles(root)) hashes.set(file, digest(file));
    const w: Watched = { spec, root, hashes, watcher: undefined as unknown as FSWatcher, timer: undefined, reloading: false, again: false };
    w.watcher = watch(root, { recursive: true }, (_event, name) => this.reported(w, name === null ? null : join(root, name.toString())));
    // A folder that goes away (a clean build) is reported as errors on some systems: the watch goes on with what it has.
    w.watcher.on('error', () => undefined);
    return w;
  }

  /** A write reported in the folder: its file (null: some file) read, and a reload scheduled when a content changed. */
  private reported(w: Watched, file: string | null): void {
    if (this.closed) return;
    const files = file === null ? moduleFiles(w.root) : [file];
    let changed = false;
    for (const f of files) {
      if (!MODULE_FILES.has(extname(f)) || relative(w.root, f).split(sep).includes('node_modules')) continue;
      const now = digest(f);
      const differs = w.hashes.get(f) !== now;
      if (differs) w.hashes.set(f, now);
      this.handlers.seen?.(w.spec, f, differs);
      changed ||= differs;
    }
    if (!changed) return;
    clearTimeout(w.timer);
    w.timer = setTimeout(() => this.fire(w), this.debounceMs);
  }

  private fire(w: Watched): void {
    w.timer = undefined;
    if (this.closed) return;
    if (w.reloading) {
      w.again = true;
      return;
    }
    w.reloading = true;
    this.reload(w.spec)
      .then(
        (report) => this.handlers.reloaded(w.spec, report),
        (error: unknown) => this.handlers.failed(w.spec, error),
      )
      .finally(() => {
        w.reloading = false;
        if (w.again) {
          w.again = false;
          this.fire(w);
        }
      });
  }
}

/** The module files under `root` (not under node_modules), at most MAX_FILES. */
function moduleFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (out.length >= MAX_FILES) return;
      const path = join(dir, name);
      let isDirectory: boolean;
      try {
        isDirectory = statSync(path).isDirectory();
      } catch {
        continue;
      }
      if (isDirectory) {
        if (name !== 'node_modules') walk(path);
      } else if (MODULE_FILES.has(extname(name))) out.push(path);
    }
  };
  walk(root);
  return out;
}

/** A file's content as a hash; a file that cannot be read (deleted) has its own. */
function digest(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch (error) {
    return `unreadable: ${describeError(error)}`;
  }
}

/** One line for a reload: the new version, and what the unload of the old one closed. */
export function describeReload(report: ReloadReport): string {
  const names = report.loaded.map((p) => p.name).join(', ');
  const old = report.unloaded
    .map(
      (u) =>
        `v${u.version} unloaded: ${u.contexts} context${u.contexts === 1 ? '' : 's'} and ${u.credentials} credential${u.credentials === 1 ? '' : 's'} closed` +
        (u.carried > 0 ? `, ${u.carried} carried over` : ''),
    )
    .join('; ');
  return `reloaded ${names}: v${report.version} from ${report.module}${old === '' ? '' : ` (${old})`}`;
}
