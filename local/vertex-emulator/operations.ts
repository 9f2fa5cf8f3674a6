import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { Logger } from '#shared/logging/logger';
import { ApiError, notFound } from './api-error';
import type { FaultInjector, OperationKind } from './faults';
import { nowIso, timestamp, type OperationRecord, type PackedMessage, type StateStore } from './store';

/** The work an operation does when it comes due; its return value is the operation's response. */
export type OperationExecutor = (task: Record<string, unknown>, op: OperationRecord) => Promise<PackedMessage>;

/**
 * Long-running operations: created at once, done after a delay (lroDelayMs, or a per-kind
 * override from the faults). The work itself runs when the operation comes due, so a resource
 * appears only when its operation is done, as on Vertex AI. Operations are persisted, so one
 * started before a restart finishes after it and can be polled from any process.
 */
export class OperationRunner {
  private readonly executors = new Map<OperationKind, OperationExecutor>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private stopped = false;

  constructor(
    private readonly store: StateStore,
    private readonly faults: FaultInjector,
    private readonly lroDelayMs: number,
    private readonly log: Logger,
  ) {}

  register(kind: OperationKind, executor: OperationExecutor): void {
    this.executors.set(kind, executor);
  }

  /** Schedules every operation left unfinished by a previous run. */
  resume(): void {
    for (const op of Object.values(this.store.state.operations)) if (!op.done) this.schedule(op);
  }

  start(kind: OperationKind, parent: string, metadata: PackedMessage, task: Record<string, unknown>): OperationRecord {
    const now = nowIso();
    const op: OperationRecord = {
      name: `${parent}/operations/${operationId()}`,
      kind,
      task,
      metadata: withGenericTimes(metadata, now, now),
      createTime: now,
      updateTime: now,
      dueAt: Date.now() + this.faults.operationDelay(kind, this.lroDelayMs),
      done: false,
    };
    this.store.mutate((s) => {
      s.operations[op.name] = op;
      pruneFinished(s.operations);
    });
    this.schedule(op);
    return op;
  }

  /**
   * By its full name, or as projects/P/locations/L/operations/ID: Vertex AI answers an
   * operation of any resource of the location that way too (`gcloud ai operations describe
   * ID --region=L` asks for it so).
   */
  get(name: string): OperationRecord {
    const op = this.store.state.operations[name] ?? this.byLocationName(name);
    if (!op) throw notFound(`Operation ${name} was not found.`);
    return op;
  }

  private byLocationName(name: string): OperationRecord | undefined {
    const m = /^(projects\/[^/]+\/locations\/[^/]+)\/operations\/([^/]+)$/.exec(name);
    if (!m) return undefined;
    return Object.values(this.store.state.operations).find((op) => op.name.startsWith(`${m[1]}/`) && op.name.endsWith(`/operations/${m[2]}`));
  }

  /** Operations whose name starts with `parent/` (a location lists all of its operations). */
  list(parent: string): OperationRecord[] {
    return Object.values(this.store.state.operations).filter((op) => op.name.startsWith(`${parent}/`));
  }

  /** Resolves when the operation is done or the timeout passes, whichever is first. */
  async wait(name: string, timeoutMs: number): Promise<OperationRecord> {
    const op = this.get(name);
    if (op.done) return op;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      const list = this.waiters.get(op.name) ?? [];
      list.push(done);
      this.waiters.set(op.name, list);
    });
    return this.get(op.name);
  }

  cancel(name: string): void {
    const op = this.get(name);
    if (op.done) return;
    clearTimeout(this.timers.get(op.name));
    this.timers.delete(op.name);
    this.finish(op, { error: { code: status.CANCELLED, message: 'Operation was cancelled.' } });
  }

  delete(name: string): void {
    const op = this.get(name);
    clearTimeout(this.timers.get(op.name));
    this.timers.delete(op.name);
    this.store.mutate((s) => {
      delete s.operations[op.name];
    });
  }

  /** Stops scheduling; operations in flight finish their work (and are persisted) first. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
    for (const list of this.waiters.values()) for (const w of list) w();
  }

  private schedule(op: OperationRecord): void {
    if (this.stopped) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(op.name);
        const run = this.run(op.name).finally(() => this.running.delete(run));
        this.running.add(run);
      },
      Math.max(0, op.dueAt - Date.now()),
    );
    this.timers.set(op.name, timer);
  }

  private async run(name: string): Promise<void> {
    const op = this.store.state.operations[name];
    if (!op || op.done) return;
    const injected = this.faults.operationFailure(op.kind);
    try {
      if (injected) throw new ApiError(status.INTERNAL, injected);
      const executor = this.executors.get(op.kind);
      if (!executor) throw new ApiError(status.UNIMPLEMENTED, `no executor for ${op.kind} operations`);
      const response = await executor(op.task, op);
      this.finish(op, { response });
    } catch (err) {
      const error = err instanceof ApiError ? { code: err.code, message: err.message } : { code: status.INTERNAL, message: err instanceof Error ? err.message : String(err) };
      if (!(err instanceof ApiError)) this.log.error('operation failed unexpectedly', { operation: name, err });
      this.finish(op, { error });
    }
  }

  private finish(op: OperationRecord, outcome: Pick<OperationRecord, 'response' | 'error'>): void {
    const now = nowIso();
    this.store.mutate((s) => {
      const cur = s.operations[op.name];
      if (!cur) return;
      Object.assign(cur, outcome, { done: true, updateTime: now, metadata: withGenericTimes(cur.metadata, cur.createTime, now) });
    });
    this.log.info('operation done', { operation: op.name, kind: op.kind, ...(outcome.error ? { error: outcome.error } : {}) });
    const list = this.waiters.get(op.name) ?? [];
    this.waiters.delete(op.name);
    for (const w of list) w();
  }
}

/** Finished operations are kept for polling, but only the most recent ones: the state file must not grow forever. */
export const KEEP_FINISHED_OPERATIONS = 1000;

function pruneFinished(ops: Record<string, OperationRecord>): void {
  const finished = Object.values(ops).filter((o) => o.done);
  if (finished.length <= KEEP_FINISHED_OPERATIONS) return;
  finished.sort((a, b) => a.updateTime.localeCompare(b.updateTime));
  for (const o of finished.slice(0, finished.length - KEEP_FINISHED_OPERATIONS)) delete ops[o.name];
}

/** Vertex AI operation ids are decimal numbers too. */
function operationId(): string {
  const hex = randomUUID().replace(/-/g, '').slice(0, 15);
  return BigInt(`0x${hex}`).toString();
}

/** Every *OperationMetadata carries GenericOperationMetadata {createTime, updateTime} in field 1. */
function withGenericTimes(metadata: PackedMessage, created: string, updated: string): PackedMessage {
  return { type: metadata.type, value: { ...metadata.value, genericMetadata: { createTime: timestamp(created), updateTime: timestamp(updated) } } };
}
