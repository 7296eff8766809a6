// machine/: the main-thread machine: boot, spawn, kill, the names servers monitor, trace collection and rendering.
export {
  Machine,
  AppProcess,
  LsaProcess,
  DEMO_ACCOUNTS,
  INSPECT_DEADLINE_MS,
  type InspectOptions,
  type LsaIsolation,
  type MachineOptions,
  type RestartReport,
  type SpawnOptions,
  type KdcOptions,
  type KdcServiceOptions,
  type MachineRole,
  type DomainJoinOptions,
  type MachineAccountOptions,
  type NetlogonOptions,
} from './machine.js';
export { parseHostPort, parseMachineAccount } from './domain.js';
export { parseServiceSpec } from './domain-controller.js';
export { PackageLoadError, describeFailures } from './boot-watch.js';
export { TraceCollector } from './trace-collector.js';
export { formatTimeline, formatMermaid, toChromeTrace } from './render.js';
export { machineTraceFile, mergeMachineTraces, parseMachineTraceFile, TraceFileError, type MachineTraceEvent, type MachineTraceFile } from './trace-file.js';
export { formatHtml, type HtmlOptions } from './html.js';
export {
  decodeToken,
  registerTokenDecoder,
  tokenDecoders,
  EXAMPLE_DECODER,
  KERBEROS_DECODER,
  SPNEGO_DECODER,
  NTLM_DECODER,
  type DecodedToken,
  type Described,
  type TokenDecoder,
} from './token-decoders.js';
