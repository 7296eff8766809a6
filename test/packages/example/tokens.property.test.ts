// Properties of the example package's token parsers, through the real LSA: whatever bytes arrive
// as a ClientHello, a ServerProof or a ClientProof (built field by field by fast-check, from fixed
// seeds, or plain random), the package answers with a status the function documents and never
// throws (which the LSA would turn into SEC_E_INTERNAL_ERROR), and no context is left behind.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { isDocumentedAnswer } from '../../../fuzz/statuses.js';
import { ISC_REQ, ASC_REQ, SECBUFFER } from '../../../headers/sspi.js';
import { SEC_E_INTERNAL_ERROR, SEC_I_CONTINUE_NEEDED, statusName } from '../../../headers/status.js';
import { Machine, type AppProcess } from '../../../machine/machine.js';
import type { CredHandle } from '../../../sspi/handles.js';
import { MAGIC as WIRE_MAGIC, MESSAGE_TYPE } from '../../../packages/example/wire.js';
import { bootTwoProcesses, bothCredentials } from '../../helpers/machine.js';

const SEED = 0x5eed_0002;
const RUNS = 80;
const MAGIC = [...new Uint8Array(new Uint32Array([WIRE_MAGIC]).buffer)]; // "EXv1"

const u16le = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff];

/** A header: usually "EXv1" and the right type, sometimes not. */
const header = (type: number) =>
  fc
    .tuple(fc.boolean(), fc.boolean(), fc.nat(255), fc.nat(255))
    .map(([rightMagic, rightType, otherType, flags]) => [...(rightMagic ? MAGIC : [0x45, 0x58, 0x76, 0x32]), rightType ? type : otherType, flags]);

/** A length-prefixed string whose prefix may lie, and whose bytes may not be UTF-8. */
const prefixed = fc
  .tuple(fc.uint8Array({ maxLength: 300 }), fc.option(fc.constantFrom(0, 1, 255, 256, 257, 0x7fff, 0xffff), { nil: undefined }))
  .map(([text, claimed]) => [...u16le(claimed ?? text.length), ...text]);

const clientHello = fc
  .tuple(
    header(MESSAGE_TYPE.ClientHello),
    fc.uint8Array({ minLength: 0, maxLength: 40 }),
    fc.uint8Array({ minLength: 0, maxLength: 40 }),
    prefixed,
    prefixed,
    fc.uint8Array({ maxLength: 8 }),
  )
  .map(([h, nc, p1, user, domain, tail]) => Uint8Array.from([...h, ...nc, ...p1, ...user, ...domain, ...tail]));
const proof = (type: number, parts: number) =>
  fc.tuple(header(type), fc.uint8Array({ minLength: 0, maxLength: 32 * parts + 8 })).map(([h, body]) => Uint8Array.from([...h, ...body]));
const anything = fc.uint8Array({ maxLength: 600 });

describe('the example package given hostile tokens', () => {
  let machine: Machine, proc: AppProcess;
  let outbound: CredHandle, inbound: CredHandle;
  before(async () => {
    ({ machine, client: proc } = await bootTwoProcesses(['example']));
    ({ outbound, inbound } = await bothCredentials(proc, 'Example'));
  });
  after(() => machine.shutdown());

  const token = (bytes: Uint8Array) => [{ BufferType: SECBUFFER.TOKEN, pvBuffer: bytes }];

  function documented(fn: 'AcceptSecurityContext' | 'InitializeSecurityContext', status: number, input: Uint8Array, cause?: string): void {
    assert.notEqual(status, SEC_E_INTERNAL_ERROR, `${fn} answered SEC_E_INTERNAL_ERROR (${cause ?? ''}) for ${Buffer.from(input).toString('hex')}`);
    assert.ok(isDocumentedAnswer(fn, status), `${fn} answered ${statusName(status)} for ${Buffer.from(input).toString('hex')}`);
  }

  test('answers every ClientHello at AcceptSecurityContext with a documented status', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(clientHello, anything), async (hello) => {
        const r = await proc.sspi.acceptSecurityContext({ credential: inbound, input: token(hello), contextReq: ASC_REQ.CONFIDENTIALITY });
        documented('AcceptSecurityContext', r.status, hello, r.cause?.message);
        if (r.context !== undefined) await proc.sspi.deleteSecurityContext(r.context);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test('answers every ServerProof at the second InitializeSecurityContext with a documented status', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(proof(MESSAGE_TYPE.ServerProof, 2), anything), async (serverProof) => {
        const first = await proc.sspi.initializeSecurityContext({ credential: outbound, contextReq: ISC_REQ.CONFIDENTIALITY });
        assert.equal(first.status, SEC_I_CONTINUE_NEEDED);
        const r = await proc.sspi.initializeSecurityContext({
          credential: outbound,
          context: first.context!,
          contextReq: ISC_REQ.CONFIDENTIALITY,
          input: token(serverProof),
        });
        documented('InitializeSecurityContext', r.status, serverProof, r.cause?.message);
        await proc.sspi.deleteSecurityContext(first.context!);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test('answers every ClientProof at the second AcceptSecurityContext with a documented status', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(proof(MESSAGE_TYPE.ClientProof, 1), anything), async (clientProof) => {
        const hello = await proc.sspi.initializeSecurityContext({ credential: outbound, contextReq: ISC_REQ.CONFIDENTIALITY });
        const first = await proc.sspi.acceptSecurityContext({
          credential: inbound,
          input: token(hello.output[0]!.pvBuffer),
          contextReq: ASC_REQ.CONFIDENTIALITY,
        });
        assert.equal(first.status, SEC_I_CONTINUE_NEEDED);
        const r = await proc.sspi.acceptSecurityContext({
          credential: inbound,
          context: first.context!,
          input: token(clientProof),
          contextReq: ASC_REQ.CONFIDENTIALITY,
        });
        documented('AcceptSecurityContext', r.status, clientProof, r.cause?.message);
        await proc.sspi.deleteSecurityContext(first.context!);
        await proc.sspi.deleteSecurityContext(hello.context!);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test('leaves no context in the LSA and keeps the LSA alive', async () => {
    assert.ok(machine.lsa.alive);
    assert.equal(machine.lsa.crashError, undefined);
    assert.equal((await machine.lsa.stats()).contexts, 0);
  });
});
