// client-proc/: the client process's applications: the default client app, and the TCP and HTTP clients.
export { type HttpFetchData, type HttpsFetchInfo } from './http-app.js';
export { normalizeFingerprint } from './tls-client.js';
