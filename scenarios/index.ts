// scenarios/: what the CLI runs on a machine: the demo run, chaos, soak, and the socket servers' driver.
export { runChaos } from './chaos.js';
export { firstFailure, runDemo, type DemoOptions, type DemoReport } from './demo.js';
export { DEFAULT_APP_NEEDS, diagnoseRun, formatNeeds, type DefaultAppNeed, type PackageException, type RunDiagnosis } from './diagnose.js';
export { runSoak } from './soak.js';
export { SOCKET_APPS, SocketServer, type SocketServerOptions, type TlsServerOptions } from './socket-server.js';
