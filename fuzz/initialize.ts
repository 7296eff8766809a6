// A generator for what an application hands InitializeSecurityContext besides tokens: the target
// name (empty, long up to past what an AV_PAIR or UNICODE_STRING holds, lone surrogates, control
// characters), the ISC_REQ flags (any 32 bits), channel bindings on the first call (well-formed or
// not) and the output buffer list. The handshake then runs to its end with those parameters, so the
// target name and the flags travel into every token: the client's last answer is judged, and every
// status on the way must be documented. A handshake with ordinary parameters must complete.
//
//   <pkg>/initialize   hostile InitializeSecurityContext parameters, then the whole handshake
//                      (generic/initialize for any package: nothing in it is NTLM's or the example's)

import { SECBUFFER, type SecBuffer, SEC_E_OK, SEC_I_CONTINUE_NEEDED } from '../headers/index.js';
import type { CtxtHandle } from '../sspi/index.js';
import { packSecChannelBindings } from '../packages/ntlm/wire.js';
import { patched, u32le } from './bytes.js';
import {
  CLIENT_REQ,
  dropContext,
  outputList,
  outputToken,
  SERVER_REQ,
  tokenBuffer,
  type FuzzEnv,
  type GeneratorInstance,
  type GeneratorSpec,
  type Trial,
} from './generator.js';
import type { Rng } from './rng.js';

function targetName(rng: Rng): { name: string | null; ordinary: boolean; how: string } {
  const kind = rng.weighted<string>([
    [6, 'spn'],
    [1, 'null'],
    [1, 'empty'],
    [2, 'long'],
    [2, 'odd'],
  ]);
  switch (kind) {
    case 'null':
      return { name: null, ordinary: true, how: 'no target name' };
    case 'empty':
      return { name: '', ordinary: true, how: 'an empty target name' };
    case 'long': {
      const length = rng.pick([256, 1000, 1500, 32_766, 32_767, 32_768, 40_000, 70_000]);
      return { name: 'HTTP/' + 'h'.repeat(length - 5), ordinary: length <= 1000, how: `a ${length}-character target name` };
    }
    case 'odd': {
      let name = 'HTTP/';
      for (let i = rng.range(1, 40); i > 0; i--) name += String.fromCharCode(rng.pick([0, 0x0a, 0x5c, 0x2f, 0x40, 0xd800, 0xdfff, 0xfffe, rng.int(0x10000)]));
      return { name, ordinary: true, how: `a target name with odd characters (${name.length})` };
    }
    default:
      return { name: `HTTP/host${rng.int(1000)}.sspi-emu.local`, ordinary: true, how: 'an SPN' };
  }
}

function bindings(rng: Rng): Uint8Array {
  const good = packSecChannelBindings({
    initiatorAddrType: 0,
    initiatorAddress: new Uint8Array(0),
    acceptorAddrType: 0,
    acceptorAddress: new Uint8Array(0),
    applicationData: rng.bytes(rng.range(1, 64)),
  });
  return rng.chance(0.7) ? good : rng.chance(0.5) ? good.subarray(0, rng.int(32)) : patched(good, rng.pick([24, 28]), u32le(rng.next()));
}

function initializeGenerator(env: FuzzEnv): GeneratorInstance {
  return {
    async run(rng: Rng, _lane: number, trial: Trial) {
      const target = targetName(rng);
      const oddReq = rng.chance(0.3);
      const contextReq = oddReq ? rng.next() : CLIENT_REQ;
      const withBindings = rng.chance(0.1);
      const input: SecBuffer[] | null = withBindings ? [{ BufferType: SECBUFFER.CHANNEL_BINDINGS, pvBuffer: bindings(rng) }] : null;
      const output = outputList(rng);
      trial.hostile(
        target.how.split(' ')[1] ?? 'target',
        Uint8Array.from(Buffer.from(target.name ?? '', 'utf16le').subarray(0, 4096)),
        `${target.how}; contextReq 0x${contextReq.toString(16)}${withBindings ? '; channel bindings on the first call' : ''}${output.how}`,
      );
      let client: CtxtHandle | undefined;
      let server: CtxtHandle | undefined;
      let token: SecBuffer[] | null = input;
      let finalStatus = SEC_E_OK;
      for (let leg = 0; leg < 8; leg++) {
        const c = await env.sspi.initializeSecurityContext({
          credential: env.clientCredential,
          context: client ?? null,
          contextReq,
          targetName: target.name,
          input: token,
          outputTypes: leg === 0 ? output.types : [SECBUFFER.TOKEN],
        });
        finalStatus = trial.answer('InitializeSecurityContext', c);
        client = c.context ?? client;
        const sent = outputToken(c);
        if ((c.status !== SEC_E_OK && c.status !== SEC_I_CONTINUE_NEEDED) || sent === undefined) break;
        const s = await env.sspi.acceptSecurityContext({
          credential: env.serverCredential,
          context: server ?? null,
          input: tokenBuffer(sent),
          contextReq: SERVER_REQ,
        });
        trial.record('AcceptSecurityContext', s);
        server = s.context ?? server;
        const reply = outputToken(s);
        if (s.status !== SEC_E_OK && s.status !== SEC_I_CONTINUE_NEEDED) {
          finalStatus = s.status;
          break;
        }
        // A server that is done with nothing more to send ends it; one done with a last token
        // (Negotiate's mechListMIC) leaves the client one more call.
        if (reply === undefined) break;
        token = tokenBuffer(reply);
      }
      if (target.ordinary && !withBindings && output.how === '') trial.expectStatus(finalStatus, SEC_E_OK, 'a handshake with ordinary parameters');
      await dropContext(env.sspi, client, trial.violations, 'the client context');
      await dropContext(env.sspi, server, trial.violations, 'the server context');
    },
    close: () => Promise.resolve([]),
  };
}

function initializeSpec(packageKey: GeneratorSpec['packageKey']): GeneratorSpec {
  return {
    name: `${packageKey}/initialize`,
    packageKey,
    target: 'tokens',
    fn: 'InitializeSecurityContext',
    describe: 'hostile InitializeSecurityContext parameters (target name, ISC_REQ flags, bindings, outputs), then the whole handshake',
    create: (env) => Promise.resolve(initializeGenerator(env)),
  };
}

export const NTLM_INITIALIZE_GENERATOR: GeneratorSpec = initializeSpec('ntlm');
export const EXAMPLE_INITIALIZE_GENERATOR: GeneratorSpec = initializeSpec('example');
export const NEGOTIATE_INITIALIZE_GENERATOR: GeneratorSpec = initializeSpec('negotiate');
export const GENERIC_INITIALIZE_GENERATOR: GeneratorSpec = initializeSpec('generic');
