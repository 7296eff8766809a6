// The README's API example runs as shown: its TypeScript (type-checked strictly, without
// skipLibCheck, against the declarations sspi-emu ships, then run) and its plain-JavaScript
// version (run as it is). Each is taken from the README's "The public API" section at test time
// and imports 'sspi-emu' by its name, as a project that depends on it does (a module inside this
// package resolves its own name through package.json "exports").

import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';
import { runProgram } from './helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Inside the package (dist/ is), so that 'sspi-emu' resolves to this package. */
const DIR = join(ROOT, 'dist', 'test', 'readme-examples');

/** The code blocks of one README section, by language. */
async function sectionBlocks(title: string): Promise<Map<string, string>> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `the README has a section "${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks = new Map<string, string>();
  for (const match of section.matchAll(/```(\w+)\n([\s\S]*?)```/g)) if (!blocks.has(match[1]!)) blocks.set(match[1]!, match[2]!);
  return blocks;
}

/** What the example prints: the first call's status, then the run's status and the timeline. */
function assertRan(exited: { code: number | null; stdout: string; stderr: string }): void {
  assert.equal(exited.code, 0, exited.stderr);
  const lines = exited.stdout.split('\n');
  assert.equal(lines[0], 'SEC_I_CONTINUE_NEEDED');
  assert.match(lines[1]!, /^SEC_E_OK\s+t \(ms\)\s+process\s+tid\s+call$/);
  assert.ok(lines.some((line) => /-> SpInitLsaModeContext\s+\(for client\)/.test(line)));
}

describe("the README's API example", { timeout: 120_000 }, () => {
  let blocks: Map<string, string>;
  before(async () => {
    blocks = await sectionBlocks('The public API');
    await mkdir(DIR, { recursive: true });
  });
  after(() => rm(DIR, { recursive: true, force: true }));

  it('type-checks in a strict project without skipLibCheck, as TypeScript', async () => {
    const source = blocks.get('ts');
    assert.ok(source !== undefined, 'a ts block');
    const file = join(DIR, 'api-example.mts');
    await writeFile(file, source);
    const program = ts.createProgram([file], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: false,
      types: ['node'],
      noEmit: true,
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    assert.deepEqual(diagnostics, []);
  });

  it('runs as TypeScript (its types stripped)', async () => {
    const output = ts.transpileModule(blocks.get('ts')!, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    const file = join(DIR, 'api-example-ts.mjs');
    await writeFile(file, output.outputText);
    assertRan(await runProgram(process.execPath, [file], { timeoutMs: 60_000 }));
  });

  it('runs as plain JavaScript, as written', async () => {
    const source = blocks.get('js');
    assert.ok(source !== undefined, 'a js block');
    const file = join(DIR, 'api-example.mjs');
    await writeFile(file, source);
    assertRan(await runProgram(process.execPath, [file], { timeoutMs: 60_000 }));
  });
});
