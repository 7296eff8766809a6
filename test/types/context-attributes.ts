// QueryContextAttributes results are typed by level: SECPKG_ATTR_SIZES gives SecPkgContext_Sizes,
// SECPKG_ATTR_NAMES gives SecPkgContext_Names, and a level the map does not know gives unknown.

import { SECPKG_ATTR, type ContextAttributeValue, type SecPkgContextSizes } from '../../headers/sspi.js';
import type { RemoteSecur32 } from '../../sspi/secur32.js';
import type { CredHandle, CtxtHandle } from '../../sspi/handles.js';
import { expectType, type Equal } from './assert-type.js';

expectType<Equal<ContextAttributeValue<0>, SecPkgContextSizes>>(true);
expectType<Equal<ContextAttributeValue<typeof SECPKG_ATTR.NAMES>, { sUserName: string }>>(true);
expectType<Equal<ContextAttributeValue<typeof SECPKG_ATTR.LIFESPAN>, { tsStart: bigint; tsExpiry: bigint }>>(true);
expectType<Equal<ContextAttributeValue<999>, unknown>>(true);
// @ts-expect-error the NAMES level is not the SIZES structure
expectType<Equal<ContextAttributeValue<typeof SECPKG_ATTR.NAMES>, SecPkgContextSizes>>(true);

declare const sizes: ContextAttributeValue<0>;
const cbMaxToken: number = sizes.cbMaxToken;
declare const names: ContextAttributeValue<1>;
// @ts-expect-error SecPkgContext_Names has no cbMaxToken
names.cbMaxToken;
declare const other: ContextAttributeValue<0x5a>;
// @ts-expect-error a level the map does not know must be narrowed before use
other.cbMaxToken;

declare const sspi: RemoteSecur32;
declare const ctxt: CtxtHandle;
declare const cred: CredHandle;

async function query(): Promise<void> {
  const r = await sspi.queryContextAttributes(ctxt, SECPKG_ATTR.SIZES);
  expectType<Equal<typeof r.buffer, SecPkgContextSizes | undefined>>(true);
  const tokenSize: number | undefined = r.buffer?.cbMaxToken;
  // @ts-expect-error the SIZES result has no user name
  r.buffer?.sUserName;
  const n = await sspi.queryContextAttributes(ctxt, SECPKG_ATTR.NATIVE_NAMES);
  const client: string | undefined = n.buffer?.sClientName;
  // @ts-expect-error QueryContextAttributes takes a context handle, not a credential handle
  await sspi.queryContextAttributes(cred, SECPKG_ATTR.SIZES);
}
