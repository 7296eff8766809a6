// bench/: sspi-emu bench: handshakes, messages, memory and fairness, each beside its baselines from the same run.
export { QUICK, DEFAULTS, runBench, targetsOf, type BenchOptions, type BenchReport, type HandshakeRow, type MessageRow } from './run.js';
export { HandshakeBench } from './handshakes.js';
export { formatReport, formatSvg } from './report.js';
export { percentile } from './stats.js';
export {
  kerberosRows,
  formatKerberos,
  KERBEROS_MODES,
  type KerberosBenchOptions,
  type KerberosMode,
  type KerberosReport,
  type KerberosRow,
} from './kerberos.js';
export { domainRows, formatDomain, type DomainReport, type KdcRow, type PassThroughRow } from './domain.js';
