import type { DocumentReader } from './document-reader';
import { restReader } from './firestore-rest-reader';
import type { Target } from './target';

const DATASTORE_SCOPE = 'https://www.googleapis.com/auth/datastore';

/**
 * The REST reader for a target: the stack's Firestore emulator (which takes `Bearer owner`), or
 * Firestore on Google Cloud with Application Default Credentials, as the Node client would use
 * them (google-auth-library, loaded only here: it adds the quota project header too).
 */
export function documentReader(target: Target): DocumentReader {
  if (target.stack) {
    return restReader({ baseUrl: `http://${target.stack.firestoreEmulatorHost}`, project: target.project, headers: async () => ({ authorization: 'Bearer owner' }) });
  }
  let auth: Promise<{ getRequestHeaders(): Promise<{ forEach(each: (value: string, name: string) => void): void }> }> | undefined;
  return restReader({
    baseUrl: 'https://firestore.googleapis.com',
    project: target.project,
    async headers() {
      auth ??= (async () => {
        const { GoogleAuth } = require('google-auth-library') as typeof import('google-auth-library');
        return new GoogleAuth({ scopes: [DATASTORE_SCOPE] }).getClient();
      })();
      const out: Record<string, string> = {};
      (await (await auth).getRequestHeaders()).forEach((value, name) => (out[name] = value));
      return out;
    },
  });
}
