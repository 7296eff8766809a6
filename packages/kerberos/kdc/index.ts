// The KDC (RFC 4120's Authentication Service and Ticket-Granting Service) that a domain
// controller's LSA runs, as Windows runs kdcsvc inside lsass: its account database (keys made
// from passwords through a deriver the host gives: the LSA's work pool), the two exchanges, and
// its listener on UDP and TCP. lsa/ hosts it; nothing here knows of the LSA.

export { Kdc, errorName, type KdcReply, type KdcRequestRecord, type KdcStats, type KdcTransport } from './kdc.js';
export {
  KdcDatabase,
  KdcPrincipal,
  KDC_DEFAULT_ETYPES,
  type KdcDatabaseProgress,
  type KdcPrincipalKind,
  type KdcPrincipalSpec,
  type KeyDeriver,
} from './database.js';
export { KdcListener, type KdcAddress, type KdcListenerHooks, type KdcListenerStats } from './transport.js';
export { DEFAULT_KDC_POLICY, kdcPolicy, type KdcPolicy } from './policy.js';
export { KDC_ERROR_CODES, KdcError, type KdcErrorCode } from './errors.js';
export { checkRealm, defaultSalt, formatPrincipal, parsePrincipal, type ParsedPrincipal } from './principals.js';
