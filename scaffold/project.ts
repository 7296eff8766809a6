// The files around a new package's sources: package.json (sspi-emu as a dependency, the scripts of
// the author's loop), a strict tsconfig.json, a node:test test that runs `check` on the package,
// a README, a .gitignore.

export interface ProjectOptions {
  /** The package's SecPkgInfo Name. */
  name: string;
  /** How package.json names sspi-emu: "^0.1.0", "file:../sspi-emu", a git URL... */
  sspiEmuSpec: string;
  /** The versions of TypeScript and Node's types sspi-emu itself builds with. */
  typescript: string;
  typesNode: string;
}

export function projectFiles(o: ProjectOptions): Map<string, string> {
  return new Map([
    ['package.json', packageJson(o)],
    ['tsconfig.json', tsconfig()],
    ['test/check.test.ts', checkTest(o.name)],
    ['README.md', readme(o)],
    ['.gitignore', 'node_modules/\ndist/\n'],
  ]);
}

function packageJson(o: ProjectOptions): string {
  const load = './dist/src/index.js';
  const manifest = {
    name: o.name.toLowerCase(),
    version: '0.1.0',
    description: `${o.name}: a security package (SSP/AP) for sspi-emu`,
    private: true,
    type: 'module',
    exports: load,
    scripts: {
      build: 'tsc -p tsconfig.json',
      pretest: 'npm run build',
      test: 'node --test dist/test/',
      check: `npm run build && sspi-emu check --load ${load}`,
      start: `npm run build && sspi-emu run --load ${load} --package ${o.name}`,
      watch: `npm run build && sspi-emu run --watch --load ${load} --package ${o.name}`,
      fuzz: `npm run build && sspi-emu fuzz --load ${load} --package ${o.name}`,
    },
    dependencies: { 'sspi-emu': o.sspiEmuSpec },
    devDependencies: { '@types/node': o.typesNode, typescript: o.typescript },
  };
  return JSON.stringify(manifest, null, 2) + '\n';
}

function tsconfig(): string {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2023'],
      // Node's own ES module rules: relative imports name the compiled file (./lsa.js), packages
      // their public entry points (sspi-emu/kit); tsc says so when an import does not.
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noImplicitOverride: true,
      noFallthroughCasesInSwitch: true,
      noUnusedLocals: true,
      declaration: true,
      sourceMap: true,
      outDir: 'dist',
      rootDir: '.',
      types: ['node'],
    },
    include: ['src', 'test'],
  };
  return JSON.stringify(config, null, 2) + '\n';
}

function checkTest(name: string): string {
  return `// ${name} against sspi-emu's conformance suite, through the real LSA and processes: the same
// checks as \`npx sspi-emu check --load ./dist/src/index.js\`, one line each in the failure message.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatCheckReport, runCheck } from 'sspi-emu';

const PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));

test('${name} passes sspi-emu check', async () => {
  const report = await runCheck({ load: [PACKAGE] });
  assert.deepEqual(report.packages.map((p) => p.name), ['${name}']);
  assert.ok(report.ok, formatCheckReport(report));
});
`;
}

function readme(o: ProjectOptions): string {
  return `# ${o.name}

A security package (an SSP/AP) for [sspi-emu](https://www.npmjs.com/package/sspi-emu), which
loads it into an emulated LSA and runs it across real process boundaries: its LSA-mode half in the
LSA worker, its user-mode half in each application process that gets one of its contexts.

It starts as a copy of sspi-emu's example package (three-leg mutual authentication, HMAC-SHA256
proofs, AES-256-GCM seals), renamed \`${o.name}\`: make it yours.

## The loop

\`\`\`sh
npm install        # sspi-emu (${o.sspiEmuSpec}), TypeScript
npm test           # build, then sspi-emu's conformance suite against the package (node:test)
npm run check      # the same suite as a table: every check, pass, FAIL or skip, and why
npm start          # one handshake and sealed and signed messages between two processes, as a timeline
npm run watch      # the same, and again each time dist/ changes: the LSA reloads the package, no reboot
                   # (keep \`npx tsc --watch\` running in a second terminal)
npm run fuzz       # hostile tokens and messages (10,000 by default): what must never happen, and how to replay it
\`\`\`

\`npx sspi-emu check --load ./dist/src/index.js --json\` gives the suite's results as data, and
\`npx sspi-emu run --load ./dist/src/index.js --package ${o.name} --json\` every call of a handshake;
\`npm start -- --html run.html\` draws the run as a page (the sequence diagram, the timeline, each
token decoded on a click), and \`npm start -- --inspect-brk lsa\` waits for a debugger (VS Code:
attach to 127.0.0.1:9229) before the LSA loads the package, so that a breakpoint in \`src/lsa.ts\`
stops there (sspi-emu's README, "Debugging a package", has a launch.json).
Run the sspi-emu of this project (\`npx sspi-emu\`, the scripts above): the package imports its
\`sspi-emu/kit\` and \`sspi-emu/headers\`, and the LSA that loads the package must be the same copy.

## Layout

| file | what it is |
|---|---|
| \`src/index.ts\` | the module the LSA loads: \`SpLsaModeInitialize\` and \`SpUserModeInitialize\`, as a DLL exports them |
| \`src/lsa.ts\` | the LSA-mode half: credentials, the handshake, every long-term secret |
| \`src/user.ts\` | the user-mode half: signing and sealing with the session key the ContextData brings |
| \`src/wire.ts\` | the token and ContextData formats and the keys both halves share; \`PACKAGE_NAME\` |
| \`src/info.ts\` | \`SecPkgInfo\` (capabilities, \`cbMaxToken\`), \`SECPKG_ATTR_SIZES\`, the context attributes granted |
| \`test/check.test.ts\` | \`runCheck\` from sspi-emu against the compiled package |

## Rules worth knowing

- Imports: the package's own modules by their compiled name (\`./lsa.js\`, not \`./lsa\` or
  \`./lsa.ts\`; tsc refuses the others with TS2835), sspi-emu through its public faces only:
  \`sspi-emu/headers\` (statuses, flags, structures, table types; also \`sspi-emu/headers/status\`,
  \`.../sspi\`, \`.../ntsecpkg\`) and \`sspi-emu/kit\` (\`DEFAULT_LSA_MEMBERS\`, \`unsupported\`, \`putToken\`,
  \`tokenBytes\`, \`LsaBinding\`, \`unpackAuthIdentity\`, \`runLsaWork\`, ...). Its internal folders are
  not part of its interface.
- The Name in \`SecPkgInfo\` (\`PACKAGE_NAME\`) is how applications and \`--package\` find the package;
  two packages of one name do not load side by side. \`wRPCID\` stays \`SECPKG_ID_NONE\` unless the
  package has a DCE RPC authentication id of its own.
- sspi-emu's default applications (what \`npm start\` runs, and the suite's \`apps.default\`) need from a package: a handshake
  that ends in \`SEC_E_OK\` on both sides with \`MappedContext\` and \`ContextData\` on the last legs,
  \`QueryContextAttributes\` for \`SECPKG_ATTR_NAMES\` and \`SECPKG_ATTR_SIZES\` (\`cbMaxSignature\`,
  \`cbSecurityTrailer\` size their buffers), then \`EncryptMessage\`/\`DecryptMessage\` with a TOKEN
  trailer and \`MakeSignature\`/\`VerifySignature\`.
- \`src/wire.ts\` keeps the example's token magic ("EXv1"); give your protocol its own.
`;
}
