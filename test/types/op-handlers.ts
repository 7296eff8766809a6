// The LPC op handler map is exhaustive and typed by op: a map missing one op, a handler whose reply
// has the wrong shape, or one that reads its body before decoding it, does not compile; nor does a
// call to an op that does not exist or with the wrong body.

import { decodeLpcRequest, isRefusal, type LpcReplyBase, type LsaToProcessOps, type ProcessToLsaOps } from '../../ipc/lpc.js';
import type { LsaHandle } from '../../ipc/ids.js';
import type { Handlers, RpcPeer } from '../../ipc/rpc.js';
import { SEC_E_OK } from '../../headers/status.js';
import { expectType, type Equal } from './assert-type.js';

declare const handlers: Handlers<ProcessToLsaOps>;
const { SpDeleteContext, ...withoutDelete } = handlers;

const complete: Handlers<ProcessToLsaOps> = { ...withoutDelete, SpDeleteContext };

// @ts-expect-error the LSA's handler map must answer SpDeleteContext too
const missingOne: Handlers<ProcessToLsaOps> = withoutDelete;

const wrongReply: Handlers<ProcessToLsaOps> = {
  ...withoutDelete,
  // @ts-expect-error every LPC reply carries a status
  SpDeleteContext: () => ({ deleted: true }),
};

const wrongAsyncReply: Handlers<ProcessToLsaOps> = {
  ...handlers,
  // @ts-expect-error an asynchronous handler's reply is checked too: a status is a number
  SpFreeCredentialsHandle: async () => ({ status: 'SEC_E_OK' }),
};

const wrongRequest: Handlers<ProcessToLsaOps> = {
  ...withoutDelete,
  // @ts-expect-error SpDeleteContext's request carries an LsaHandle, not a string
  SpDeleteContext: (body: { hContext: string }) => ({ status: SEC_E_OK }),
};

const undecoded: Handlers<ProcessToLsaOps> = {
  ...withoutDelete,
  // @ts-expect-error a body arrives as unknown: a handler decodes it before it reads a field
  SpDeleteContext: async ({ hContext }: { hContext: LsaHandle }) => ({ status: hContext === 0 ? SEC_E_OK : SEC_E_OK }),
};

const rightShape: Handlers<ProcessToLsaOps> = {
  ...withoutDelete,
  SpDeleteContext: async (body) => {
    const request = decodeLpcRequest.SpDeleteContext(body);
    if (isRefusal(request)) return { status: request };
    expectType<Equal<typeof request.hContext, LsaHandle>>(true);
    return { status: SEC_E_OK };
  },
};

// The process answers the LSA's callbacks with a map that must be exhaustive too.
declare const callbacks: Handlers<LsaToProcessOps>;
const { ClientCallback, ...withoutCallback } = callbacks;
// @ts-expect-error the process's handler map must answer ClientCallback
const missingCallback: Handlers<LsaToProcessOps> = withoutCallback;

declare const lpc: RpcPeer<ProcessToLsaOps, LsaToProcessOps>;
declare const hContext: LsaHandle;

async function calls(): Promise<void> {
  const reply = await lpc.call('SpDeleteContext', { hContext });
  expectType<Equal<typeof reply, LpcReplyBase>>(true);
  const acquired = await lpc.call('SpAcquireCredentialsHandle', {
    pszPrincipal: null,
    pszPackage: 'Example',
    fCredentialUse: 2,
    pvLogonId: null,
    pAuthData: null,
  });
  expectType<Equal<typeof acquired.hCredential, LsaHandle | undefined>>(true);
  // @ts-expect-error there is no such op
  await lpc.call('SpNoSuchOp', {});
  // @ts-expect-error the LSA does not call itself: AllocateClientBuffer goes the other way
  await lpc.call('AllocateClientBuffer', { length: 8 });
  // @ts-expect-error a made-up number is not an LsaHandle
  await lpc.call('SpDeleteContext', { hContext: 0x10010 });
  // @ts-expect-error SpDeleteContext's reply has no context handle
  reply.hNewContext;
}
