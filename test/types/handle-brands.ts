// The handle layers are kept apart by brands: an application's CredHandle is not a CtxtHandle,
// and the LSA's LsaHandle, the machine's ProcessId and a package's PackageId are not plain numbers
// nor one another.

import type { PackageId } from '../../headers/ntsecpkg.js';
import { asLsaHandle, asProcessId, type LsaHandle, type ProcessId } from '../../ipc/ids.js';
import type { HandleEntry, HandleTables } from '../../lsa/handle-table.js';
import type { RemoteSecur32 } from '../../sspi/secur32.js';
import type { CredHandle, CtxtHandle } from '../../sspi/handles.js';

declare const cred: CredHandle;
declare const ctxt: CtxtHandle;
declare function takesCtxt(handle: CtxtHandle): void;
declare function takesCred(handle: CredHandle): void;

takesCtxt(ctxt);
takesCred(cred);
// @ts-expect-error a CredHandle is not a CtxtHandle
takesCtxt(cred);
// @ts-expect-error a CtxtHandle is not a CredHandle
takesCred(ctxt);
// @ts-expect-error a SecHandle-shaped object made up by hand is neither
takesCtxt({ dwLower: 1, dwUpper: 2 });

declare const sspi: RemoteSecur32;
void sspi.deleteSecurityContext(ctxt);
void sspi.freeCredentialsHandle(cred);
// @ts-expect-error DeleteSecurityContext takes a context handle, not a credential handle
void sspi.deleteSecurityContext(cred);
// @ts-expect-error FreeCredentialsHandle takes a credential handle, not a context handle
void sspi.freeCredentialsHandle(ctxt);
// @ts-expect-error InitializeSecurityContext's credential is a CredHandle
void sspi.initializeSecurityContext({ credential: ctxt, contextReq: 0 });

declare const handle: LsaHandle;
declare const pid: ProcessId;
declare const packageId: PackageId;
declare function takesLsaHandle(value: LsaHandle): void;
declare function takesProcessId(value: ProcessId): void;
declare function takesPackageId(value: PackageId): void;

takesLsaHandle(handle);
takesProcessId(pid);
takesPackageId(packageId);
takesLsaHandle(asLsaHandle(0x10010));
takesProcessId(asProcessId(7));
// A branded id is still a number where a number is wanted.
const asNumber: number = handle + pid + packageId;

// @ts-expect-error a plain number is not an LsaHandle
takesLsaHandle(0x10010);
// @ts-expect-error a plain number is not a ProcessId
takesProcessId(7);
// @ts-expect-error a plain number is not a PackageId
takesPackageId(3);
// @ts-expect-error a ProcessId is not an LsaHandle
takesLsaHandle(pid);
// @ts-expect-error an LsaHandle is not a ProcessId
takesProcessId(handle);
// @ts-expect-error a PackageId is not an LsaHandle
takesLsaHandle(packageId);
// @ts-expect-error arithmetic on a handle gives a plain number, not another handle
takesLsaHandle(handle + 0x10);

declare const tables: HandleTables;
declare const entry: HandleEntry;
tables.create(pid, entry);
// @ts-expect-error the LSA's tables are keyed by ProcessId, not by whatever number arrives
tables.create(7, entry);
// @ts-expect-error nor by an LsaHandle
tables.remove(handle, handle);
