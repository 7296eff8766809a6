// Starting a socket server in a server process worker: listen, and learn the port it got (the
// port asked for, or the free one the system picked for port 0). Shared by the TCP and HTTP apps.

import type { Server } from 'node:net';

/** Listens on host:port and resolves with the bound port; rejects with the listen error. */
export function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}
