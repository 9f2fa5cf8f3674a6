import { request, type Agent } from 'node:http';

export type PostOutcome = { status: number } | { error: string };

/**
 * One POST with node:http on a keep-alive agent: its answer's status once the answer has been
 * read to the end, or why none came (refused, reset, aborted, or no whole answer within
 * `timeoutMs` of the start). The emulators' event
 * and push deliveries send tens of thousands of these in a folder copy or a big job, and on
 * this path node:http costs about a third of the CPU of fetch (undici) per request.
 */
export function postOnce(url: string, body: string | Buffer, opts: { agent: Agent; headers: Record<string, string>; timeoutMs: number; signal?: AbortSignal }): Promise<PostOutcome> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const settle = (out: PostOutcome) => {
      clearTimeout(timer);
      resolve(out);
    };
    // request() throws at once for a URL or header it cannot send (an https: URL, say): a failure like any other
    try {
      const req = request(
        url,
        {
          method: 'POST',
          agent: opts.agent,
          headers: { ...opts.headers, 'content-length': String(Buffer.byteLength(body)) },
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
        (res) => {
          res.resume();
          res.on('end', () => settle({ status: res.statusCode ?? 0 }));
          res.on('error', (err) => settle({ error: err.message }));
        },
      );
      timer = setTimeout(() => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
      req.on('error', (err) => settle({ error: err.message }));
      req.end(body);
    } catch (err) {
      settle({ error: err instanceof Error ? err.message : String(err) });
    }
  });
}
