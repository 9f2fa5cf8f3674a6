import { status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from '#shared/logging/logger';
import { ApiError } from './api-error';

export type Handler<Req, Res> = (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>;

/**
 * Turns an async handler into a grpc-js unary handler. ApiErrors answer with their code and
 * message; anything else is an emulator bug, logged and answered INTERNAL (never a crash).
 */
export function unary<Req, Res>(log: Logger, method: string, handler: Handler<Req, Res>, before?: () => Promise<void>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const run = async () => {
      if (before) await before();
      return handler(call.request, call);
    };
    run().then(
      (res) => callback(null, res),
      (err: unknown) => {
        if (err instanceof ApiError) {
          callback({ code: err.code, details: err.message });
          return;
        }
        log.error('handler failed', { method, err });
        callback({ code: status.INTERNAL, details: `${method}: ${err instanceof Error ? err.message : String(err)}` });
      },
    );
  };
}
