import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { EmulatorContext } from './context';
import { unary } from './grpc-handler';
import { paginate } from './list-filter';

/**
 * google.longrunning.Operations, which the clients' operationsClient (and checkXProgress,
 * op.promise()) poll. Not subject to injected management faults: polling must stay reliable
 * for tests of what happens around it.
 */
export function operationsService(ctx: EmulatorContext): UntypedServiceImplementation {
  const { ops, log } = ctx;
  const handle = <Req, Res>(method: string, fn: (req: Req) => Promise<Res>) => unary<Req, Res>(log, `Operations.${method}`, fn);
  return {
    GetOperation: handle('GetOperation', async (req: { name: string }) => ctx.opView(ops.get(req.name))),
    ListOperations: handle('ListOperations', async (req: { name: string; pageSize?: number; pageToken?: string }) => {
      const { page, nextPageToken } = paginate(ops.list(req.name), req.pageSize, req.pageToken);
      return { operations: page.map(ctx.opView), nextPageToken };
    }),
    WaitOperation: handle('WaitOperation', async (req: { name: string; timeout?: { seconds?: string | number; nanos?: number } }) => {
      const ms = req.timeout ? Number(req.timeout.seconds ?? 0) * 1000 + (req.timeout.nanos ?? 0) / 1e6 : 60_000;
      return ctx.opView(await ops.wait(req.name, Math.min(ms, 600_000)));
    }),
    CancelOperation: handle('CancelOperation', async (req: { name: string }) => {
      ops.cancel(req.name);
      return {};
    }),
    DeleteOperation: handle('DeleteOperation', async (req: { name: string }) => {
      ops.delete(req.name);
      return {};
    }),
  };
}
