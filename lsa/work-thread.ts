// A thread of the LSA's work pool (piscina's worker file): runs one work routine per task and
// keeps nothing between tasks; the password its task carried is wiped once the key is made.

import { threadId } from 'node:worker_threads';
import type { WorkThreadReply } from './work-pool.js';
import { runWorkTask, wipeWorkTask, type WorkTask } from './work-routines.js';

export default function workThread(task: WorkTask): WorkThreadReply {
  try {
    return { output: runWorkTask(task), threadId };
  } finally {
    wipeWorkTask(task);
  }
}
