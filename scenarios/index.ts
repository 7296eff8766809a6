// scenarios/: what the CLI runs on a machine: the demo run, chaos, soak, the socket servers' driver,
// and watching package modules to reload them (run --watch, serve --watch).
export { runChaos } from './chaos.js';
export { runDomainChaos, type DomainChaosOptions, type DomainChaosReport } from './domain-chaos.js';
export { firstFailure, runDemo, runDemoOn, type DemoOptions, type DemoReport } from './demo.js';
export { DEFAULT_APP_NEEDS, diagnoseRun, formatNeeds, type DefaultAppNeed, type PackageException, type RunDiagnosis } from './diagnose.js';
export { runSoak } from './soak.js';
export { SOCKET_APPS, SocketServer, type SocketServerOptions, type TlsServerOptions } from './socket-server.js';
export { describeReload, PackageWatcher, type PackageWatchHandlers, type PackageWatchOptions } from './package-watch.js';
export { runWatching, type WatchHooks } from './watch.js';
