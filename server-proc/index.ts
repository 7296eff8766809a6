// server-proc/: the server process's applications: the default server app, and the TCP and HTTP servers.
export { DEFAULT_SERVER_REQ } from './app.js';
export { listenOn } from './listen.js';
