// check/: `sspi-emu check`, a conformance suite for any package, run through the real LSA and processes.
export { runCheck, type CheckOptions, type CheckReport } from './suite.js';
export type { PackageCheck } from './package.js';
export type { CheckOutcome, CheckResult } from './results.js';
export { CHECKS, CHECK_NAMES, type CheckName } from './catalogue.js';
export { formatCheckReport } from './report.js';
