// A package module of the test's own, in a folder of its own, whose source the test rewrites to
// make a new version: the example package under another name, whose Comment (in SecPkgInfo from
// its LSA-mode half, and in SECPKG_ATTR_PACKAGE_INFO from its user-mode half) comes from a second
// file, comment.js, so that a reload that did not read the package's own imports again shows.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HEADERS = new URL('../../headers/index.js', import.meta.url).href;
const VARIANT = new URL('../fixtures/packages/example-variant.js', import.meta.url).href;

export class ReloadablePackage {
  readonly dir: string;
  /** The module's path: a "Security Packages" entry. */
  readonly entry: string;
  readonly name: string;

  private constructor(dir: string, name: string) {
    this.dir = dir;
    this.name = name;
    this.entry = join(dir, 'index.js');
  }

  static create(name: string, comment: string): ReloadablePackage {
    const pkg = new ReloadablePackage(mkdtempSync(join(tmpdir(), 'sspi-emu-reload-')), name);
    writeFileSync(join(pkg.dir, 'package.json'), '{ "type": "module" }\n');
    pkg.setComment(comment);
    writeFileSync(pkg.entry, ReloadablePackage.source(name));
    return pkg;
  }

  /** A new version: comment.js says `comment` (the entry file stays as it was). */
  setComment(comment: string): void {
    writeFileSync(join(this.dir, 'comment.js'), `export const COMMENT = ${JSON.stringify(comment)};\n`);
  }

  /** A version that does not load: comment.js has a syntax error. */
  breakSyntax(): void {
    writeFileSync(join(this.dir, 'comment.js'), 'export const COMMENT = ;\n');
  }

  /** Writes any file of the package (a path relative to its folder). */
  write(file: string, text: string): void {
    writeFileSync(join(this.dir, file), text);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private static source(name: string): string {
    return `import { SECPKG_ATTR, SEC_E_OK } from ${JSON.stringify(HEADERS)};
import { exampleVariant } from ${JSON.stringify(VARIANT)};
import { COMMENT } from './comment.js';

const inner = exampleVariant({ name: ${JSON.stringify(name)} });

export async function SpLsaModeInitialize(version) {
  const result = await inner.SpLsaModeInitialize(version);
  const table = result.ppTables[0];
  const GetInfo = async () => {
    const got = await table.GetInfo();
    return { ...got, PackageInfo: { ...got.PackageInfo, Comment: COMMENT } };
  };
  return { ...result, ppTables: [{ ...table, GetInfo }] };
}

export async function SpUserModeInitialize(version) {
  const result = await inner.SpUserModeInitialize(version);
  const table = result.ppTables[0];
  const QueryContextAttributes = (handle, attribute) =>
    attribute === SECPKG_ATTR.PACKAGE_INFO
      ? { status: SEC_E_OK, Buffer: { PackageInfo: { Name: ${JSON.stringify(name)}, Comment: COMMENT } } }
      : table.QueryContextAttributes(handle, attribute);
  return { ...result, ppTables: [{ ...table, QueryContextAttributes }] };
}
`;
  }
}
