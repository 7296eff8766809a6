// scenarios/: what the CLI runs on a machine: the demo run, chaos, soak, the socket servers' driver,
// watching package modules to reload them (run --watch, serve --watch), and a domain of machines in
// separate OS processes (run --domain).
export { runChaos } from './chaos.js';
export { runDomainChaos, type DomainChaosOptions, type DomainChaosReport } from './domain-chaos.js';
export { firstFailure, runDemo, runDemoOn, type DemoOptions, type DemoReport } from './demo.js';
export { DEFAULT_APP_NEEDS, diagnoseRun, formatNeeds, type DefaultAppNeed, type PackageException, type RunDiagnosis } from './diagnose.js';
export { formatKlist, klist, type KlistReport } from './klist.js';
export { runSoak } from './soak.js';
export { SOCKET_APPS, SocketServer, type SocketServerOptions, type TlsServerOptions } from './socket-server.js';
export { describeReload, PackageWatcher, type PackageWatchHandlers, type PackageWatchOptions } from './package-watch.js';
export { runWatching, type WatchHooks } from './watch.js';
export {
  Domain,
  DomainError,
  DomainMachine,
  DOMAIN_MACHINES,
  MEMBER_COMPUTER_NAME,
  MEMBER_LOCAL_ACCOUNT,
  mechanismOf,
  redact,
  runDomain,
  type DomainErrorCode,
  type DomainMachineName,
  type DomainMachineReport,
  type DomainOptions,
  type DomainReport,
  type MachineExit,
  type WorkstationOutcome,
} from './domain.js';
