// The scaffold's template is the example package as sspi-emu ships it: rewritten to the public
// faces and the new name, and present in the npm package (a "files" list that left it out would
// break new-package for everyone who installs sspi-emu).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { packageSources, TEMPLATE_DIR } from '../../scaffold/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('the new-package template', () => {
  it('is every module of the example package, with the name and Comment rewritten and nothing else of the name changed', () => {
    const sources = packageSources('Contoso');
    assert.deepEqual(
      [...sources.keys()],
      readdirSync(TEMPLATE_DIR)
        .filter((f) => f.endsWith('.ts'))
        .sort(),
    );
    assert.match(sources.get('wire.ts')!, /^export const PACKAGE_NAME = 'Contoso';$/m);
    assert.match(sources.get('info.ts')!, /^ {2}Comment: 'Contoso: three-leg mutual authentication \(made from the sspi-emu example package\)',$/m);
    assert.match(sources.get('index.ts')!, /^\/\/ Contoso: made by `sspi-emu new-package`/);
    for (const [file, text] of sources) assert.doesNotMatch(text, /from '\.\.\//, `${file} reaches into sspi-emu's folders`);
  });

  it('ships in the npm package', async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (error, out) =>
        error === null ? resolve(out) : reject(error),
      ),
    );
    const files = new Set((JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path));
    for (const file of ['index.ts', 'info.ts', 'lsa.ts', 'user.ts', 'wire.ts'])
      assert.ok(files.has(`packages/example/${file}`), `packages/example/${file} is packed`);
    assert.ok(files.has('dist/scaffold/template.js'));
  });
});
