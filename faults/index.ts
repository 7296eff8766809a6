// Fault injection, as a feature: plans that crash or stall a process at a named call point,
// mangle its outgoing LPC messages, or make a package entry point throw or hang.
export { FAULT_EXIT_CODE, FaultInjector, seededRandom, stallThread, type FaultPlan, type LinkDecision } from './faults.js';
