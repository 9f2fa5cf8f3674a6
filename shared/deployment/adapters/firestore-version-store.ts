import type { DocumentReference, Firestore, Transaction } from '@google-cloud/firestore';
import type { ModelRecord, VersionRecord } from '../core/records';
import { initialHistory, isInProgress, RECONCILED, transition } from '../core/state-machine';
import { LeaseLostError, type ClaimOutcome, type VersionChange, type VersionStore } from '../ports';

/**
 * models/{model} and models/{model}/versions/{version} on Firestore. Every write that decides
 * who works on a version runs in a transaction, so duplicate and concurrent events, and two
 * reconcilers, agree on one worker.
 */
export function firestoreVersionStore(db: Firestore): VersionStore {
  const modelRef = (model: string) => db.collection('models').doc(model);
  const versionRef = (model: string, version: string) => modelRef(model).collection('versions').doc(version);
  const leaseFree = (lease: VersionRecord['lease'], now: Date) => !lease || Date.parse(lease.until) <= now.getTime();
  const read = async (tx: Transaction, ref: DocumentReference) => {
    const snap = await tx.get(ref);
    return snap.exists ? (snap.data() as VersionRecord) : null;
  };

  return {
    claim(init, holder, leaseMs, now) {
      const ref = versionRef(init.model, init.version);
      return db.runTransaction(async (tx): Promise<ClaimOutcome> => {
        const existing = await read(tx, ref);
        const lease = { holder, until: new Date(now.getTime() + leaseMs).toISOString() };
        if (!existing) {
          const record: VersionRecord = {
            ...init,
            state: 'PENDING',
            history: initialHistory(now),
            lease,
            createdAt: now.toISOString(),
            updatedAt: now.toISOString(),
          };
          tx.create(ref, clean(record));
          return { kind: 'claimed', record };
        }
        // Once DEPLOYING, Vertex holds the work and the reconciler follows it; events no longer matter.
        if (!isInProgress(existing.state) || existing.state === 'DEPLOYING') {
          return { kind: 'skipped', record: existing, why: `version is ${existing.state}` };
        }
        if (existing.operation) return { kind: 'skipped', record: existing, why: `an ${existing.operation.kind} operation is in flight; the reconciler follows it` };
        if (!leaseFree(existing.lease, now)) return { kind: 'skipped', record: existing, why: `another worker holds it until ${existing.lease!.until}` };
        tx.update(ref, { lease, updatedAt: now.toISOString() });
        return { kind: 'claimed', record: { ...existing, lease } };
      });
    },

    acquireLease(model, version, holder, leaseMs, now) {
      const ref = versionRef(model, version);
      return db.runTransaction(async (tx) => {
        const existing = await read(tx, ref);
        if (!existing) return null;
        if (!leaseFree(existing.lease, now) && existing.lease!.holder !== holder) return null;
        const lease = { holder, until: new Date(now.getTime() + leaseMs).toISOString() };
        tx.update(ref, { lease });
        return { ...existing, lease };
      });
    },

    async releaseLease(model, version, holder) {
      const ref = versionRef(model, version);
      await db.runTransaction(async (tx) => {
        const existing = await read(tx, ref);
        if (existing?.lease?.holder === holder) tx.update(ref, { lease: null });
      });
    },

    change(model, version, holder, change: VersionChange, now, leaseMs) {
      const ref = versionRef(model, version);
      return db.runTransaction(async (tx) => {
        const existing = await read(tx, ref);
        if (!existing) throw new Error(`version ${model}/${version} does not exist`);
        if (existing.lease?.holder !== holder) throw new LeaseLostError(`${model}/${version}`);
        const next: VersionRecord = {
          ...existing,
          ...change.patch,
          lease: { holder, until: new Date(now.getTime() + leaseMs).toISOString() },
          updatedAt: now.toISOString(),
        };
        if (change.to && change.to !== existing.state) {
          next.history = transition(existing.history, existing.state, change.to, now, change.reason);
          next.state = change.to;
        }
        tx.set(ref, clean(next));
        return next;
      });
    },

    async get(model, version) {
      const snap = await versionRef(model, version).get();
      return snap.exists ? (snap.data() as VersionRecord) : null;
    },

    async listVersions(model) {
      const snap = await modelRef(model).collection('versions').get();
      return snap.docs.map((d) => d.data() as VersionRecord);
    },

    async listActive() {
      const [busy, undeploying] = await Promise.all([
        db
          .collectionGroup('versions')
          .where('state', 'in', [...RECONCILED])
          .get(),
        db.collectionGroup('versions').where('operation.kind', '==', 'undeploy').get(),
      ]);
      const seen = new Map<string, VersionRecord>();
      for (const d of [...busy.docs, ...undeploying.docs]) seen.set(d.ref.path, d.data() as VersionRecord);
      return [...seen.values()];
    },

    async getModel(model) {
      const snap = await modelRef(model).get();
      return snap.exists ? (snap.data() as ModelRecord) : null;
    },

    recordVertexModel(model, vertexModel, now) {
      const ref = modelRef(model);
      return db.runTransaction(async (tx) => {
        const snap = await tx.get(ref);
        const existing = snap.data() as ModelRecord | undefined;
        if (existing?.vertexModel) return existing.vertexModel;
        tx.set(ref, { model, vertexModel, updatedAt: now.toISOString() }, { merge: true });
        return vertexModel;
      });
    },

    acquireEndpointLease(model, holder, leaseMs, now) {
      const ref = modelRef(model);
      return db.runTransaction(async (tx) => {
        const snap = await tx.get(ref);
        const existing = (snap.data() as ModelRecord | undefined) ?? { model, updatedAt: now.toISOString() };
        if (existing.endpoint) return existing;
        const lease = existing.endpointLease;
        if (lease && lease.holder !== holder && Date.parse(lease.until) > now.getTime()) return null;
        const endpointLease = { holder, until: new Date(now.getTime() + leaseMs).toISOString() };
        tx.set(ref, { model, endpointLease, updatedAt: now.toISOString() }, { merge: true });
        return { ...existing, endpointLease };
      });
    },

    recordEndpoint(model, endpoint, holder, now) {
      const ref = modelRef(model);
      return db.runTransaction(async (tx) => {
        const snap = await tx.get(ref);
        const existing = snap.data() as ModelRecord | undefined;
        if (existing?.endpoint) return existing.endpoint;
        const lease = existing?.endpointLease;
        if (lease && lease.holder !== holder && Date.parse(lease.until) > now.getTime()) throw new LeaseLostError(`models/${model} endpoint`);
        tx.set(ref, { model, endpoint, endpointLease: null, updatedAt: now.toISOString() }, { merge: true });
        return endpoint;
      });
    },

    async releaseEndpointLease(model, holder) {
      const ref = modelRef(model);
      await db.runTransaction(async (tx) => {
        const snap = await tx.get(ref);
        if ((snap.data() as ModelRecord | undefined)?.endpointLease?.holder === holder) tx.update(ref, { endpointLease: null });
      });
    },

    async recordTraffic(model, byVersion, previous, now) {
      const batch = db.batch();
      const versions = await modelRef(model).collection('versions').get();
      for (const d of versions.docs) {
        const v = d.data() as VersionRecord;
        const percent = byVersion[v.version];
        if (percent !== undefined && v.trafficPercent !== percent) batch.update(d.ref, { trafficPercent: percent, updatedAt: now.toISOString() });
        if (percent === undefined && v.trafficPercent) batch.update(d.ref, { trafficPercent: 0, updatedAt: now.toISOString() });
      }
      // mergeFields replaces these maps whole (merge: true would keep versions no longer serving).
      const fields = { model, traffic: byVersion, ...(previous ? { previousTraffic: previous } : {}), updatedAt: now.toISOString() };
      batch.set(modelRef(model), fields, { mergeFields: Object.keys(fields) });
      await batch.commit();
    },
  };
}

/** Firestore rejects `undefined`; absent fields are simply left out. */
function clean<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
