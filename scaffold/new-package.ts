// `sspi-emu new-package NAME [DIR]`: writes a package project that builds and passes `check` as
// written. Everything is decided before anything is written: a bad name, a folder that is not
// empty or a dependency spec that names nothing change nothing on disk.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { packageNameProblem } from './names.js';
import { projectFiles } from './project.js';
import { packageSources } from './template.js';

export interface NewPackageOptions {
  /** The package's SecPkgInfo Name (packageNameProblem says what is allowed). */
  name: string;
  /** Where to write the project; default ./NAME in lower case, from `cwd`. Absent or empty. */
  dir?: string;
  /**
   * How the project depends on sspi-emu: a path to an sspi-emu checkout or tarball (written as a
   * file: dependency relative to the project), or any npm spec; default "^" and this sspi-emu's version.
   */
  sspiEmu?: string;
  cwd?: string;
}

export interface NewPackageResult {
  dir: string;
  /** The files written, relative to `dir`. */
  files: string[];
  /** The dependency as package.json has it. */
  sspiEmuSpec: string;
}

export class ScaffoldError extends Error {
  override readonly name = 'ScaffoldError';
}

const OWN_MANIFEST = new URL('../../package.json', import.meta.url);

interface OwnManifest {
  name: string;
  version: string;
  devDependencies?: Record<string, string>;
}

export function newPackage(options: NewPackageOptions): NewPackageResult {
  const problem = packageNameProblem(options.name);
  if (problem !== undefined) throw new ScaffoldError(problem);
  const cwd = options.cwd ?? process.cwd();
  const dir = resolve(cwd, options.dir ?? options.name.toLowerCase());
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new ScaffoldError(`${dir} is a file, not a folder`);
    if (readdirSync(dir).length > 0) throw new ScaffoldError(`${dir} is not empty: new-package writes only into a new or empty folder`);
  }
  const own = JSON.parse(readFileSync(OWN_MANIFEST, 'utf8')) as OwnManifest;
  const sspiEmuSpec = dependencySpec(options.sspiEmu, own, cwd, dir);
  const files = new Map<string, string>();
  for (const [file, text] of packageSources(options.name)) files.set(`src/${file}`, text);
  for (const [file, text] of projectFiles({
    name: options.name,
    sspiEmuSpec,
    typescript: own.devDependencies?.typescript ?? '^5.9.3',
    typesNode: own.devDependencies?.['@types/node'] ?? '^20.0.0',
  }))
    files.set(file, text);

  const created = !existsSync(dir);
  try {
    for (const [file, text] of files) {
      const path = join(dir, file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text, { flag: 'wx' });
    }
  } catch (error) {
    // Half a project is worse than none: take back what was written.
    if (created) rmSync(dir, { recursive: true, force: true });
    else for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
    throw new ScaffoldError(`writing ${dir} failed: ${(error as Error).message}`);
  }
  return { dir, files: [...files.keys()], sspiEmuSpec };
}

/** package.json's spec for sspi-emu: a local checkout or tarball as a relative file: dependency, any other spec as given. */
function dependencySpec(spec: string | undefined, own: OwnManifest, cwd: string, dir: string): string {
  if (spec === undefined) return `^${own.version}`;
  if (spec.trim() === '') throw new ScaffoldError('--sspi-emu takes a path or an npm spec, not an empty string');
  // What can only be a path (npm specs such as github:user/repo have slashes too, but not first).
  const pathLike = /^(file:|\.|\/|~|[A-Za-z]:[\\/])/.test(spec) || spec.includes('\\');
  const target = resolve(cwd, spec.startsWith('file:') ? spec.slice('file:'.length) : spec);
  if (!existsSync(target)) {
    if (pathLike) throw new ScaffoldError(`--sspi-emu ${spec}: no such file or folder`);
    return spec; // a version range, a tag, a git URL: npm's to resolve
  }
  if (statSync(target).isDirectory()) {
    let name: string | undefined;
    try {
      name = (JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')) as { name?: string }).name;
    } catch {
      name = undefined;
    }
    if (name !== own.name) throw new ScaffoldError(`--sspi-emu ${spec}: ${target} is not an sspi-emu checkout (its package.json names ${name ?? 'nothing'})`);
  } else if (!/\.t(ar\.)?gz$/.test(target)) throw new ScaffoldError(`--sspi-emu ${spec}: a file must be a tarball (.tgz), as npm pack makes`);
  const rel = relative(dir, target).split(sep).join('/');
  return `file:${rel.startsWith('.') ? rel : `./${rel}`}`;
}
