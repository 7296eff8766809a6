// The machine's public face: boot, spawn, kill, trace.
export { Machine, AppProcess, LsaProcess, DEMO_ACCOUNTS, type MachineOptions, type SpawnOptions } from './machine.js';
export { TraceCollector } from './trace-collector.js';
export { formatTimeline, formatMermaid, toChromeTrace } from './render.js';
export { runDemo, type DemoOptions, type DemoReport } from './demo.js';
