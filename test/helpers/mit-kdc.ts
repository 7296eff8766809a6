// A local MIT KDC for tests (Debian's krb5-kdc and krb5-admin-server; kinit and kvno from
// krb5-user): a realm made in a temporary directory with kdb5_util, principals added with
// kadmin.local, krb5kdc run in the foreground on a loopback port (UDP and TCP), and a krb5.conf
// that MIT's clients use through KRB5_CONFIG. Nothing outside the directory is read or written;
// stop() ends the KDC and removes it. Tests call mitKdcMissing() first and skip, saying so, when it
// answers a reason.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, Program, runProgram, type Exited } from './sockets.js';

/** A program from /usr/sbin or /usr/bin (where Debian puts the KDC's and the clients'), or PATH. */
function tool(name: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) if (existsSync(join(dir, name))) return join(dir, name);
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim() || undefined;
}

const TOOLS = {
  krb5kdc: tool('krb5kdc'),
  kdb5_util: tool('kdb5_util'),
  kadminLocal: tool('kadmin.local'),
  kinit: tool('kinit'),
  kvno: tool('kvno'),
  klist: tool('klist'),
  ktutil: tool('ktutil'),
} as const;

/** Why a local MIT KDC cannot run here (a missing program and the package that has it), or false. */
export function mitKdcMissing(): string | false {
  if (TOOLS.krb5kdc === undefined || TOOLS.kdb5_util === undefined) return 'MIT krb5kdc/kdb5_util not installed (apt-get install krb5-kdc)';
  if (TOOLS.kadminLocal === undefined) return 'MIT kadmin.local not installed (apt-get install krb5-admin-server)';
  if (TOOLS.kinit === undefined || TOOLS.kvno === undefined || TOOLS.klist === undefined) return 'MIT kinit/kvno/klist not installed (apt-get install krb5-user)';
  return false;
}

/** The path of an MIT client tool (kinit, kvno, klist, ktutil); throws when it is missing. */
export function mitTool(name: keyof typeof TOOLS): string {
  const path = TOOLS[name];
  if (path === undefined) throw new Error(`${name} is not installed`);
  return path;
}

export interface MitPrincipal {
  /** Without the realm: "alice", "host/localhost". */
  name: string;
  /** A password, or a random key when absent (services). */
  password?: string;
  /** Whether the principal requires pre-authentication (PA-ENC-TIMESTAMP); default true. */
  preauth?: boolean;
}

export interface MitKdcOptions {
  realm?: string;
  principals?: MitPrincipal[];
  /** Encryption types the KDC makes keys for and accepts; default the four AES ones. */
  enctypes?: string[];
  /**
   * Where clients send their requests (host:port); default the KDC itself. A test that captures the
   * traffic points clients at its proxy and the proxy at `kdcPort`.
   */
  clientKdc?: (kdcPort: number) => string;
  /** Make clients use TCP (udp_preference_limit = 1); default false (UDP first, as MIT does). */
  tcp?: boolean;
}

const DEFAULT_ENCTYPES = ['aes256-cts-hmac-sha1-96', 'aes128-cts-hmac-sha1-96', 'aes256-cts-hmac-sha384-192', 'aes128-cts-hmac-sha256-128'];

export class MitKdc {
  readonly realm: string;
  readonly dir: string;
  /** The KDC's loopback port, UDP and TCP. */
  readonly port: number;
  /** KRB5_CONFIG and KRB5_KDC_PROFILE for this realm, KRB5CCNAME for a cache in the directory. */
  readonly env: NodeJS.ProcessEnv;
  private readonly program: Program;

  private constructor(realm: string, dir: string, port: number, env: NodeJS.ProcessEnv, program: Program) {
    this.realm = realm;
    this.dir = dir;
    this.port = port;
    this.env = env;
    this.program = program;
  }

  /** Makes the realm, adds the principals, and starts krb5kdc; resolves once it says it serves. */
  static async start(options: MitKdcOptions = {}): Promise<MitKdc> {
    const missing = mitKdcMissing();
    if (missing) throw new Error(missing);
    const realm = options.realm ?? 'EXAMPLE.TEST';
    const enctypes = options.enctypes ?? DEFAULT_ENCTYPES;
    const dir = await mkdtemp(join(tmpdir(), 'sspi-emu-mit-kdc-'));
    try {
      const port = await freePort();
      const clientKdc = options.clientKdc?.(port) ?? `127.0.0.1:${port}`;
      await writeFile(
        join(dir, 'krb5.conf'),
        [
          '[libdefaults]',
          `  default_realm = ${realm}`,
          '  dns_lookup_kdc = false',
          '  dns_lookup_realm = false',
          '  rdns = false',
          '  ignore_acceptor_hostname = true',
          `  permitted_enctypes = ${enctypes.join(' ')}`,
          ...(options.tcp === true ? ['  udp_preference_limit = 1'] : []),
          '[realms]',
          `  ${realm} = {`,
          `    kdc = ${clientKdc}`,
          '  }',
          '[domain_realm]',
          `  localhost = ${realm}`,
          '',
        ].join('\n'),
      );
      await writeFile(join(dir, 'kadm5.acl'), '');
      await writeFile(
        join(dir, 'kdc.conf'),
        [
          '[kdcdefaults]',
          `  kdc_listen = 127.0.0.1:${port}`,
          `  kdc_tcp_listen = 127.0.0.1:${port}`,
          '[realms]',
          `  ${realm} = {`,
          `    database_name = ${join(dir, 'principal')}`,
          `    key_stash_file = ${join(dir, 'stash')}`,
          `    acl_file = ${join(dir, 'kadm5.acl')}`,
          `    supported_enctypes = ${enctypes.map((e) => `${e}:normal`).join(' ')}`,
          '    max_life = 10h 0m 0s',
          '    max_renewable_life = 7d 0h 0m 0s',
          '  }',
          '[logging]',
          '  kdc = STDERR',
          '',
        ].join('\n'),
      );
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        KRB5_CONFIG: join(dir, 'krb5.conf'),
        KRB5_KDC_PROFILE: join(dir, 'kdc.conf'),
        KRB5CCNAME: `FILE:${join(dir, 'ccache')}`,
        KRB5_KTNAME: `FILE:${join(dir, 'keytab')}`,
        KRB5RCACHETYPE: 'none',
      };
      check(await runProgram(mitTool('kdb5_util'), ['create', '-s', '-r', realm, '-P', 'master-key-of-a-test-realm'], { env, timeoutMs: 30_000 }), 'kdb5_util create');
      for (const p of options.principals ?? []) {
        const flags = p.preauth === false ? '-requires_preauth' : '+requires_preauth';
        const how = p.password === undefined ? "-randkey" : `-pw "${p.password}"`;
        check(await runProgram(mitTool('kadminLocal'), ['-r', realm, '-q', `addprinc ${flags} ${how} ${p.name}@${realm}`], { env }), `addprinc ${p.name}`);
      }
      const program = Program.start(mitTool('krb5kdc'), ['-n', '-r', realm], env);
      const kdc = new MitKdc(realm, dir, port, env, program);
      try {
        await program.waitForLine(/commencing operation/, 20_000);
      } catch (error) {
        await kdc.stop();
        throw error;
      }
      return kdc;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** kadmin.local with one query (`ktadd -k FILE host/localhost`, `getprinc alice`), in this realm. */
  async kadmin(query: string): Promise<Exited> {
    return check(await runProgram(mitTool('kadminLocal'), ['-r', this.realm, '-q', query], { env: this.env }), `kadmin.local ${query}`);
  }

  /** kinit PRINCIPAL with the password on stdin, into this realm's cache. */
  kinit(principal: string, password: string, args: string[] = []): Promise<Exited> {
    return runProgram(mitTool('kinit'), [...args, `${principal}@${this.realm}`], { env: this.env, input: `${password}\n`, timeoutMs: 20_000 });
  }

  /** kvno SERVICE: a service ticket from the TGS, with this realm's cache. */
  kvno(service: string): Promise<Exited> {
    return runProgram(mitTool('kvno'), [`${service}@${this.realm}`], { env: this.env, timeoutMs: 20_000 });
  }

  /** Ends krb5kdc and removes the realm's directory. */
  async stop(): Promise<void> {
    await this.program.stop('SIGTERM');
    await rm(this.dir, { recursive: true, force: true });
  }
}

function check(exited: Exited, what: string): Exited {
  if (exited.code !== 0) throw new Error(`${what} failed (${exited.code ?? exited.signal}): ${exited.stdout}${exited.stderr}`);
  return exited;
}
