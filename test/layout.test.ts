// The tree's shape, checked: a folder is used only through its index (its public face), a
// package only through its index (the DLL) or its wire module, ipc/ stays the lowest layer, and the
// source folders are the README's. The sources are read as text; nothing is run.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCE_FOLDERS = [
  'headers',
  'ipc',
  'faults',
  'hosting',
  'lsa',
  'sspi',
  'process',
  'app-protocols',
  'client-proc',
  'server-proc',
  'packages',
  'machine',
  'scenarios',
  'bench',
  'fuzz',
  'check',
  'scaffold',
  'cli',
];

function sources(folder: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, folder))) {
    const path = join(folder, entry);
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...sources(path));
    else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The folder a file belongs to for this rule: a top-level folder, or one package of packages/. */
function unitOf(path: string): string {
  const parts = path.split('/');
  return parts[0] === 'packages' && parts.length > 2 ? `packages/${parts[1]}` : parts.length === 1 ? '' : parts[0]!;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/g;

function imports(path: string): string[] {
  const text = readFileSync(join(ROOT, path), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => relative(ROOT, join(ROOT, dirname(path), m[1]!)).replace(/\.js$/, '.ts'));
}

describe('the layout', () => {
  const files = SOURCE_FOLDERS.flatMap(sources);

  it('has the source folders the README names, each with an index', () => {
    for (const folder of SOURCE_FOLDERS.filter((f) => f !== 'packages' && f !== 'cli'))
      assert.ok(statSync(join(ROOT, folder, 'index.ts')).isFile(), `${folder}/index.ts`);
  });

  it('uses another folder only through its index, and a package only through its index or wire module', () => {
    const crossings: string[] = [];
    for (const file of files)
      for (const target of imports(file)) {
        if (unitOf(target) === unitOf(file)) continue;
        const allowed = target.endsWith('/index.ts') || (unitOf(target).startsWith('packages/') && target.endsWith('/wire.ts'));
        if (!allowed) crossings.push(`${file} -> ${target}`);
      }
    assert.deepEqual(crossings, []);
  });

  it('keeps ipc/ the lowest layer: it imports nothing but headers and its own files, types included', () => {
    const upward: string[] = [];
    for (const file of files.filter((f) => f.startsWith('ipc/'))) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/(?:^|\n)\s*import\s+(type\s+)?[^;]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const target = relative(ROOT, join(ROOT, dirname(file), m[2]!));
        if (!target.startsWith('ipc/') && !target.startsWith('headers/')) upward.push(`${file} -> ${target}`);
      }
    }
    assert.deepEqual(upward, []);
  });
});
