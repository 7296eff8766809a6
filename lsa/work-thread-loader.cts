// What piscina's threads load (the pool's `filename`): a CommonJS module that imports the thread's
// ES module itself. piscina loads its file with require() first; on Node 20.19 and later that
// require() of an ES module goes through Node's "require(esm)" path, whose facade asserts, and
// aborts the whole OS process (the machine, or the LSA's process), when the thread is torn down
// while the module loads: seen once in a full test run (`ModuleWrap::CreateRequiredModuleFacade`,
// SIGABRT). A CommonJS file is required without it, and a dynamic import() that loses its thread
// only rejects. Which module to run comes in piscina's workerData (the LSA's work thread, or a
// test's stand-in).

import { workerData } from 'piscina';

type Handler = (task: unknown) => unknown;

let handler: Handler | undefined;

async function runTask(task: unknown): Promise<unknown> {
  if (handler === undefined) {
    const threadModule: unknown = (workerData as { threadModule?: unknown } | undefined)?.threadModule;
    if (typeof threadModule !== 'string') throw new TypeError('the work thread loader needs workerData.threadModule (a file: URL)');
    handler = ((await import(threadModule)) as { default: Handler }).default;
  }
  return handler(task);
}

module.exports = runTask;
