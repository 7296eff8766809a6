// Both ways an LSA runs (a worker thread, or its own OS process) boot it the same way: the LSA
// from its configuration, the machine's control calls served, and Ready (or why the boot failed)
// reported on the boot channel.

import {
  type BootMessage,
  type LsaReport,
  type ControlPort,
  exposeControl,
  type FramePort,
  openInspectorIfAsked,
  serializeError,
  Tracer,
} from '../ipc/index.js';
import type { LsaBootData } from './worker-data.js';
import { lsaControl } from './control.js';
import { Lsa } from './lsa.js';

export interface LsaPorts {
  control: ControlPort;
  trace: FramePort;
  /** Where Ready or the boot failure goes (the worker's parentPort, the pipe's boot channel), and the LSA's reports after it. */
  boot: (message: BootMessage | LsaReport) => void;
}

export async function serveLsa(data: LsaBootData, ports: LsaPorts): Promise<void> {
  // Before the packages load, so that a debugger (with `wait`) can set its breakpoints in them first.
  if (!openInspectorIfAsked(data.inspect, ports.boot)) return;
  const tracer = new Tracer(ports.trace, 'lsa', 500, data.trace, data.tap);
  try {
    const lsa = await Lsa.boot(data.config, tracer, data.generation, {
      ...(data.lpcSocket === undefined ? {} : { lpcSocket: data.lpcSocket }),
      // Each load step is told to the machine before it starts, so that a step that never ends is named.
      progress: (spec, stage) => ports.boot({ kind: 'loading', spec, stage }),
      kdcReport: (record) => ports.boot({ kind: 'kdc-request', record }),
      netlogonReport: (record) => ports.boot({ kind: 'netlogon-request', record }),
    });
    exposeControl(lsaControl(lsa), ports.control);
    ports.boot({ kind: 'ready' });
  } catch (error) {
    ports.boot({ kind: 'boot-failed', error: serializeError(error) });
  }
}
