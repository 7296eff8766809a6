// The fuzzer's public face: run it (runFuzz), its report's shape, its generators, and the answers
// it accepts from each SSPI function.

export { runFuzz, freshHandshake, offences, type FuzzOptions, type FuzzReport, type FuzzSubject, type PackageFuzzReport, type HeapFigures } from './runner.js';
export type { GeneratorTally, Offender, OffenceKind, BatchPlan, BatchJob } from './app.js';
export { GENERATORS, generatorsFor, generatorByName, SSPI_PACKAGE_NAME, type FuzzPackage, type FuzzTarget, type GeneratorSet } from './generators.js';
export { acceptedAnswers, isDocumentedAnswer, type FuzzedFunction } from './statuses.js';
export { Rng, inputSeed } from './rng.js';
export { formatFuzzReport, fuzzReportJson } from './report.js';
