// The package sources of a new project: sspi-emu's example package (packages/example), read as
// it ships, with three rewrites. Its imports of sspi-emu's own folders become the public faces a
// project outside this repository reaches (sspi-emu/headers, sspi-emu/kit); its one name constant
// becomes the new name; its Comment says what it is. Each rewrite must apply exactly as written,
// so that a change to the example that the scaffold does not expect fails loudly (and the
// scaffold's test) instead of writing a project that does not build.

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The example package's sources, shipped in the npm package beside dist/. */
export const TEMPLATE_DIR = fileURLToPath(new URL('../../packages/example/', import.meta.url));

/** sspi-emu's folders as the example imports them, and the public face each becomes. */
const PUBLIC_FACES: ReadonlyMap<string, string> = new Map([
  ['../../headers/index.js', 'sspi-emu/headers'],
  ['../kit/index.js', 'sspi-emu/kit'],
]);

const NAME_LINE = "export const PACKAGE_NAME = 'Example';";
const COMMENT_LINE = "  Comment: 'sspi-emu example package: three-leg mutual authentication',";

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** The new package's src/ files by name: the example's, rewritten for `name` (already validated). */
export function packageSources(name: string): Map<string, string> {
  let files: string[];
  try {
    files = readdirSync(TEMPLATE_DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  } catch (error) {
    throw new TemplateError(`the example package's sources are not at ${TEMPLATE_DIR} (${(error as Error).message}): this sspi-emu was installed without them`);
  }
  const out = new Map<string, string>();
  for (const file of files.sort()) out.set(file, rewrite(file, readFileSync(`${TEMPLATE_DIR}${file}`, 'utf8'), name));
  for (const [file, line] of [
    ['wire.ts', NAME_LINE],
    ['info.ts', COMMENT_LINE],
  ] as const)
    if (!out.has(file)) throw new TemplateError(`the example package has no ${file} (expected "${line}" there)`);
  return out;
}

function rewrite(file: string, text: string, name: string): string {
  let out = text.replace(/(from\s+)'(\.{1,2}\/[^']+)'/g, (whole, from: string, target: string) => {
    if (target.startsWith('./')) return whole; // the package's own modules
    const face = PUBLIC_FACES.get(target);
    if (face === undefined)
      throw new TemplateError(`${file} imports ${target}, which is not one of sspi-emu's public faces (${[...PUBLIC_FACES.values()].join(', ')})`);
    return `${from}'${face}'`;
  });
  if (file === 'wire.ts') out = replaceOnce(file, out, NAME_LINE, `export const PACKAGE_NAME = '${name}';`);
  if (file === 'info.ts')
    out = replaceOnce(file, out, COMMENT_LINE, `  Comment: '${name}: three-leg mutual authentication (made from the sspi-emu example package)',`);
  if (file === 'index.ts')
    out =
      `// ${name}: made by \`sspi-emu new-package\` from sspi-emu's example package. The comments are the\n` +
      `// example's: they teach the interface; change the protocol, and them, as you make it yours.\n//\n` +
      out;
  return out;
}

function replaceOnce(file: string, text: string, line: string, by: string): string {
  const parts = text.split(line);
  if (parts.length !== 2) throw new TemplateError(`${file}: expected the line "${line}" once, found it ${parts.length - 1} times`);
  return parts.join(by);
}
