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
//
// fs.watch's `recursive` is used where Node has it from the system (Windows, macOS: one watch of
// the folder, by path). Elsewhere (Linux) Node 20 makes it of one watch per file, and a file
// replaced by a rename (`sed -i`, an editor that saves by writing a new file and renaming it over
// the old) keeps the watch of the file that is gone: only the first such save was ever seen. There
// each directory is watched instead, not each file: a directory's watch reports its entries by
// name, whatever file is there now. A directory that appears is watched; one that goes away or is
// replaced by another under its name has its watches closed (and made again for the new one). An
// entry made, removed or moved (a 'rename') has what it holds read, before and now.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, watch, type FSWatcher, type Stats, type WatchEventType } from 'node:fs';
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
/** Directories a watch watches at most per module folder. */
const MAX_DIRS = 1000;
const MODULE_FILES = new Set(['.js', '.mjs', '.cjs']);
/** Whether fs.watch's `recursive` is the system's (one watch of the folder) rather than one watch per file. */
const NATIVE_RECURSIVE = process.platform === 'win32' || process.platform === 'darwin';
/** How the hash of a file that cannot be read begins. */
const UNREADABLE = 'unreadable: ';

/** One watched directory: its watch, and which directory it is (another one made under its name is not watched by it). */
interface WatchedDir {
  watcher: FSWatcher;
  dev: number;
  ino: number;
}

/** One watched module: its folder, its directories' watches, the content of its files as last seen, its pending reload. */
interface Watched {
  spec: string;
  root: string;
  dirs: Map<string, WatchedDir>;
  hashes: Map<string, string>;
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
      w.timer = undefined;
      unwatchTree(w, w.root);
    }
  }

  private watch(spec: string): Watched {
    const url = resolvePackageSpec(spec);
    if (url.protocol !== 'file:') throw new Error(`cannot watch ${spec}: not a module file`);
    const root = dirname(fileURLToPath(url));
    const w: Watched = { spec, root, dirs: new Map(), hashes: new Map(), timer: undefined, reloading: false, again: false };
    try {
      this.watchTree(w, root, true);
    } catch (error) {
      unwatchTree(w, root);
      throw error;
    }
    for (const file of moduleFiles(root)) w.hashes.set(file, digest(file));
    return w;
  }

  /**
   * Watches `dir` (unless it is already) and every directory below it not yet watched (not
   * node_modules; with NATIVE_RECURSIVE, the folder's one watch covers them). A directory that
   * cannot be watched (gone already) is left to its parent's events, but the module's folder
   * itself (`required`) throws.
   */
  private watchTree(w: Watched, dir: string, required = false): void {
    if (this.closed) return;
    if (!w.dirs.has(dir)) {
      if (w.dirs.size >= MAX_DIRS) return;
      let stats: Stats;
      let watcher: FSWatcher;
      try {
        // Which directory first, then its watch: one that replaces it in between differs from what
        // is kept here, so that the parent's event for it makes the watch again.
        stats = statSync(dir);
        if (!stats.isDirectory()) return;
        watcher = watch(dir, { recursive: NATIVE_RECURSIVE }, (event, name) => {
          if (w.dirs.get(dir)?.watcher === watcher) this.reported(w, dir, event, name);
        });
      } catch (error) {
        if (required) throw error;
        return;
      }
      // A directory that goes away is reported as an error on some systems: its watch ends (the
      // others go on), and its parent's event for it watches it again if it comes back.
      watcher.on('error', () => {
        if (w.dirs.get(dir)?.watcher !== watcher) return;
        w.dirs.delete(dir);
        watcher.close();
      });
      w.dirs.set(dir, { watcher, dev: stats.dev, ino: stats.ino });
    }
    if (NATIVE_RECURSIVE) return;
    for (const name of entries(dir)) {
      if (name === 'node_modules') continue;
      const path = join(dir, name);
      if (statOf(path)?.isDirectory() === true) this.watchTree(w, path);
    }
  }

  /**
   * An entry of a watched directory reported (`name` null: some entry): a directory that appeared
   * is watched, one that went away or was replaced loses its watches (and the new one is watched),
   * and the module files concerned are read; a reload is scheduled when a content changed.
   */
  private reported(w: Watched, dir: string, event: WatchEventType, name: string | null): void {
    if (this.closed) return;
    if (name === null) {
      this.rescan(w);
      return;
    }
    const path = join(dir, name);
    if (relative(w.root, path).split(sep).includes('node_modules')) return;
    const stats = statOf(path);
    const isDirectory = stats?.isDirectory() === true;
    // A 'rename' is an entry made, removed or moved: what was under it and what is are read.
    let reread = event === 'rename';
    if (!NATIVE_RECURSIVE) {
      // A watched directory's entry renamed is another directory there now, if any (one removed and
      // made again may even have the same inode number): it is watched afresh.
      const known = w.dirs.get(path);
      if (known !== undefined && (event === 'rename' || !sameDirectory(known, stats))) {
        unwatchTree(w, path);
        reread = true;
      }
      if (isDirectory && !w.dirs.has(path)) {
        this.watchTree(w, path);
        reread = true;
      }
    }
    const files = new Set<string>();
    if (reread) {
      for (const file of w.hashes.keys()) if (file.startsWith(path + sep)) files.add(file);
      if (isDirectory) for (const file of moduleFiles(path)) files.add(file);
    }
    if (!isDirectory) files.add(path);
    this.check(w, files);
  }

  /** Some entry changed somewhere: every directory's watch checked, every module file read. */
  private rescan(w: Watched): void {
    for (const [dir, known] of [...w.dirs]) if (w.dirs.get(dir) === known && !sameDirectory(known, statOf(dir))) unwatchTree(w, dir);
    this.watchTree(w, w.root);
    this.check(w, new Set([...w.hashes.keys(), ...moduleFiles(w.root)]));
  }

  /** Reads the module files among `files` (not under node_modules); a content that changed schedules a reload. */
  private check(w: Watched, files: Iterable<string>): void {
    let changed = false;
    for (const f of files) {
      if (!MODULE_FILES.has(extname(f)) || relative(w.root, f).split(sep).includes('node_modules')) continue;
      const now = digest(f);
      const before = w.hashes.get(f);
      // A file never seen that cannot be read (a temporary file renamed away already) changes nothing.
      const differs = before !== now && !(before === undefined && now.startsWith(UNREADABLE));
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

/** Closes the watches of `dir` and of every directory below it. */
function unwatchTree(w: Watched, dir: string): void {
  for (const [path, { watcher }] of [...w.dirs]) {
    if (path !== dir && !path.startsWith(dir + sep)) continue;
    w.dirs.delete(path);
    watcher.close();
  }
}

/** Whether `stats` is the directory a watch was made for (not gone, not another one under its name). */
function sameDirectory(known: WatchedDir, stats: Stats | undefined): boolean {
  return stats !== undefined && stats.isDirectory() && stats.dev === known.dev && stats.ino === known.ino;
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The module files under `root` (not under node_modules), at most MAX_FILES. */
function moduleFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of entries(dir)) {
      if (out.length >= MAX_FILES) return;
      const path = join(dir, name);
      const stats = statOf(path);
      if (stats === undefined) continue;
      if (stats.isDirectory()) {
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
    return `${UNREADABLE}${describeError(error)}`;
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
