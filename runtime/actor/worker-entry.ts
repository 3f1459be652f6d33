/** The entry of a supervisor's worker thread (see worker-host.ts). */
import { workerData } from 'node:worker_threads';
import type { WorkerInit } from './messages.js';
import { WorkerHost } from './worker-host.js';

new WorkerHost(workerData as WorkerInit);
