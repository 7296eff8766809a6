// process/: what an app process is: its runtime (LPC channel, control channel, SSPI library,
// the context an application module is given) and its worker entry.
export { processSideOfLpc, type AppArgs, type AppContext, type AppModule, type AppResult, type AppStats, type Listener } from './runtime.js';
export { acquireAppCredential, afterPeer, appResult, explicitIdentity, failedCall, isPeerGone } from './app-support.js';
