// The domain a Kerberos fuzz run builds: the domain controller's realm, and the service the fuzzed
// machine's acceptor holds the key of. The service is the target every generator names
// (fuzz/generator.ts), so the client's tickets are for it.

export const KERBEROS_FUZZ_DOMAIN = Object.freeze({
  realm: 'FUZZ.SSPI-EMU.TEST',
  service: 'HTTP/fuzz.sspi-emu.local',
  servicePassword: 'fuzz-service-key-7',
  /** The fuzzed machine's maxClockSkewSeconds: how long its replay cache keeps an authenticator (fuzz/runner.ts). */
  maxClockSkewSeconds: 10,
});

/** Where the domain controller's KDC listens, and its realm: what the KDC generators talk to. */
export interface FuzzKdc {
  host: string;
  port: number;
  realm: string;
}
