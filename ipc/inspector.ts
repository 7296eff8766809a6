// A process's own inspector (node:inspector, the V8 debugger protocol), opened from inside its
// thread: an app process's worker, the LSA's worker or the LSA's OS process. A worker that opens
// its inspector is a debug target of its own, on its own port: a breakpoint there pauses that
// thread alone, and every other process goes on (and meets its deadlines) while it is paused.

import inspector from 'node:inspector';
import type { BootMessage } from './boot.js';
import { SspiEmuError, serializeError } from './errors.js';

/** Where a process's inspector listens, and whether the process waits for a debugger before it starts its work. */
export interface InspectorRequest {
  host: string;
  port: number;
  wait: boolean;
}

/**
 * Opens this thread's inspector as `request` asks, if it asks, and reports its URL on the boot
 * channel ({ kind: 'inspector', url }) before anything else; with `wait`, then blocks until a
 * debugger has attached and let it run (Runtime.runIfWaitingForDebugger), as `node --inspect-brk`
 * does. False, with the failure reported as the boot's, when the inspector could not listen (the
 * port is taken): the process then does not start.
 */
export function openInspectorIfAsked(request: InspectorRequest | undefined, boot: (message: BootMessage) => void): boolean {
  if (request === undefined) return true;
  inspector.open(request.port, request.host, false);
  // Node prints why it could not listen and returns without a URL; it does not throw.
  const url = inspector.url();
  if (url === undefined) {
    const error = new SspiEmuError(
      'BAD_OPTION',
      `cannot open the inspector on ${request.host}:${request.port}: the port is in use, or the address is not this machine's`,
    );
    boot({ kind: 'boot-failed', error: serializeError(error) });
    return false;
  }
  boot({ kind: 'inspector', url, wait: request.wait });
  if (request.wait) inspector.waitForDebugger();
  return true;
}

/** The Chrome DevTools address of an inspector's ws:// URL (what chrome://inspect would open). */
export function devtoolsUrl(wsUrl: string): string {
  return `devtools://devtools/bundled/js_app.html?experiments=true&v8only=true&ws=${wsUrl.replace(/^ws:\/\//, '')}`;
}
