import type { ModelRecord, VersionRecord } from '#shared/deployment/core/records';
import { initialHistory, isInProgress, RECONCILED, transition } from '#shared/deployment/core/state-machine';
import { LeaseLostError, type ClaimOutcome, type VersionStore } from '#shared/deployment/ports';
import { FaultPlan, stored } from '../faults';

type Method = keyof VersionStore;

/**
 * models/{model} and models/{model}/versions/{version} in memory, with the contract of
 * firestoreVersionStore: claim is a conditional create (or the take-over of an abandoned
 * in-progress version), changes need the holder's live lease and go through the state
 * machine, and every read returns a copy, as a document read does.
 */
export class FakeVersionStore implements VersionStore {
  readonly versions = new Map<string, VersionRecord>();
  readonly models = new Map<string, ModelRecord>();
  readonly faults = new FaultPlan<Method>();

  /** A version as the test needs it to be, written directly (no lease, no checks). */
  seed(rec: Partial<VersionRecord> & Pick<VersionRecord, 'model' | 'version' | 'state'>): VersionRecord {
    const at = '2026-12-01T09:00:00.000Z';
    const full: VersionRecord = {
      history: [{ from: null, to: rec.state, at }],
      artifactUri: `gs://models/${rec.model}/${rec.version}/`,
      claimedBy: `models/${rec.model}/${rec.version}/saved_model.pb#1`,
      versionAlias: rec.version,
      traffic: 'replace',
      createdAt: at,
      updatedAt: at,
      ...rec,
    };
    this.versions.set(key(rec.model, rec.version), stored(full));
    return stored(full);
  }

  seedModel(rec: ModelRecord): void {
    this.models.set(rec.model, stored(rec));
  }

  /** the stored version (a copy), or throws when absent */
  version(model: string, version: string): VersionRecord {
    const v = this.versions.get(key(model, version));
    if (!v) throw new Error(`no version ${model}/${version} in the fake store`);
    return stored(v);
  }

  async claim(init: Parameters<VersionStore['claim']>[0], holder: string, leaseMs: number, now: Date): Promise<ClaimOutcome> {
    this.faults.check('claim', init, holder);
    const k = key(init.model, init.version);
    const existing = this.versions.get(k);
    const lease = { holder, until: new Date(now.getTime() + leaseMs).toISOString() };
    if (!existing) {
      const record: VersionRecord = { ...init, state: 'PENDING', history: initialHistory(now), lease, createdAt: now.toISOString(), updatedAt: now.toISOString() };
      this.versions.set(k, stored(record));
      return { kind: 'claimed', record: stored(record) };
    }
    if (!isInProgress(existing.state) || existing.state === 'DEPLOYING') return { kind: 'skipped', record: stored(existing), why: `version is ${existing.state}` };
    if (existing.operation) return { kind: 'skipped', record: stored(existing), why: `an ${existing.operation.kind} operation is in flight; the reconciler follows it` };
    if (!leaseFree(existing.lease, now)) return { kind: 'skipped', record: stored(existing), why: `another worker holds it until ${existing.lease!.until}` };
    existing.lease = lease;
    existing.updatedAt = now.toISOString();
    return { kind: 'claimed', record: stored(existing) };
  }

  async acquireLease(model: string, version: string, holder: string, leaseMs: number, now: Date): Promise<VersionRecord | null> {
    this.faults.check('acquireLease', model, version, holder);
    const existing = this.versions.get(key(model, version));
    if (!existing) return null;
    if (!leaseFree(existing.lease, now) && existing.lease!.holder !== holder) return null;
    existing.lease = { holder, until: new Date(now.getTime() + leaseMs).toISOString() };
    return stored(existing);
  }

  async releaseLease(model: string, version: string, holder: string): Promise<void> {
    this.faults.check('releaseLease', model, version, holder);
    const existing = this.versions.get(key(model, version));
    if (existing?.lease?.holder === holder) existing.lease = null;
  }

  async change(model: string, version: string, holder: string, change: Parameters<VersionStore['change']>[3], now: Date, leaseMs: number): Promise<VersionRecord> {
    this.faults.check('change', model, version, change);
    const existing = this.versions.get(key(model, version));
    if (!existing) throw new Error(`version ${model}/${version} does not exist`);
    if (existing.lease?.holder !== holder) throw new LeaseLostError(`${model}/${version}`);
    const next: VersionRecord = { ...stored(existing), ...stored(change.patch ?? {}), lease: { holder, until: new Date(now.getTime() + leaseMs).toISOString() }, updatedAt: now.toISOString() };
    if (change.to && change.to !== existing.state) {
      next.history = transition(existing.history, existing.state, change.to, now, change.reason);
      next.state = change.to;
    }
    this.versions.set(key(model, version), stored(next));
    return stored(next);
  }

  async get(model: string, version: string): Promise<VersionRecord | null> {
    this.faults.check('get', model, version);
    const v = this.versions.get(key(model, version));
    return v ? stored(v) : null;
  }

  async listVersions(model: string): Promise<VersionRecord[]> {
    this.faults.check('listVersions', model);
    return [...this.versions.values()].filter((v) => v.model === model).map(stored);
  }

  async listActive(): Promise<VersionRecord[]> {
    this.faults.check('listActive');
    return [...this.versions.values()].filter((v) => RECONCILED.includes(v.state) || v.operation?.kind === 'undeploy').map(stored);
  }

  async getModel(model: string): Promise<ModelRecord | null> {
    this.faults.check('getModel', model);
    const m = this.models.get(model);
    return m ? stored(m) : null;
  }

  async recordVertexModel(model: string, vertexModel: string, now: Date): Promise<string> {
    this.faults.check('recordVertexModel', model, vertexModel);
    const m = this.models.get(model);
    if (m?.vertexModel) return m.vertexModel;
    this.models.set(model, { ...(m ?? { model }), vertexModel, updatedAt: now.toISOString() });
    return vertexModel;
  }

  async acquireEndpointLease(model: string, holder: string, leaseMs: number, now: Date): Promise<ModelRecord | null> {
    this.faults.check('acquireEndpointLease', model, holder);
    const m = this.models.get(model) ?? { model, updatedAt: now.toISOString() };
    if (m.endpoint) return stored(m);
    const lease = m.endpointLease;
    if (lease && lease.holder !== holder && Date.parse(lease.until) > now.getTime()) return null;
    const next = { ...m, endpointLease: { holder, until: new Date(now.getTime() + leaseMs).toISOString() }, updatedAt: now.toISOString() };
    this.models.set(model, next);
    return stored(next);
  }

  async recordEndpoint(model: string, endpoint: string, holder: string, now: Date): Promise<string> {
    this.faults.check('recordEndpoint', model, endpoint);
    const m = this.models.get(model);
    if (m?.endpoint) return m.endpoint;
    const lease = m?.endpointLease;
    if (lease && lease.holder !== holder && Date.parse(lease.until) > now.getTime()) throw new LeaseLostError(`models/${model} endpoint`);
    this.models.set(model, { ...(m ?? { model }), endpoint, endpointLease: null, updatedAt: now.toISOString() });
    return endpoint;
  }

  async releaseEndpointLease(model: string, holder: string): Promise<void> {
    this.faults.check('releaseEndpointLease', model, holder);
    const m = this.models.get(model);
    if (m?.endpointLease?.holder === holder) m.endpointLease = null;
  }

  async recordTraffic(model: string, byVersion: Record<string, number>, previous: Record<string, number> | undefined, now: Date): Promise<void> {
    this.faults.check('recordTraffic', model, byVersion, previous);
    for (const v of this.versions.values()) {
      if (v.model !== model) continue;
      const percent = byVersion[v.version];
      if (percent !== undefined) v.trafficPercent = percent;
      else if (v.trafficPercent) v.trafficPercent = 0;
    }
    const m = this.models.get(model) ?? { model, updatedAt: now.toISOString() };
    this.models.set(model, { ...m, traffic: { ...byVersion }, ...(previous ? { previousTraffic: { ...previous } } : {}), updatedAt: now.toISOString() });
  }
}

const key = (model: string, version: string) => `${model}/${version}`;
const leaseFree = (lease: VersionRecord['lease'], now: Date) => !lease || Date.parse(lease.until) <= now.getTime();
