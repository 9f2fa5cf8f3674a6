import type { DeploymentContext } from '#shared/deployment/context';
import { FakeClock } from '../clock';
import { capturedLogger, type LogLine } from '../logs';
import { FakeArtifactStore } from './artifact-store';
import { FakeModelEvents } from './model-events';
import { FakeVersionStore } from './version-store';
import { FakeVertexDeployer, type FakeVertexOptions } from './vertex-deployer';

export interface FakeDeployment {
  ctx: DeploymentContext;
  store: FakeVersionStore;
  artifacts: FakeArtifactStore;
  vertex: FakeVertexDeployer;
  events: FakeModelEvents;
  clock: FakeClock;
  logs: LogLine[];
}

/** A DeploymentContext on in-memory fakes of every port; the clock only moves when told (or slept on). */
export function fakeDeployment(opts: FakeVertexOptions & { leaseMs?: number } = {}): FakeDeployment {
  const store = new FakeVersionStore();
  const artifacts = new FakeArtifactStore();
  const vertex = new FakeVertexDeployer(opts);
  const events = new FakeModelEvents();
  const clock = new FakeClock();
  const { log, lines } = capturedLogger('deployment-test');
  const ctx: DeploymentContext = { store, artifacts, vertex, events, clock, log, location: opts.location ?? 'us-central1', leaseMs: opts.leaseMs ?? 60_000 };
  return { ctx, store, artifacts, vertex, events, clock, logs: lines };
}
