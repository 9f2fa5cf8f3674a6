import type { DocumentData, Firestore } from '@google-cloud/firestore';

/**
 * The reads `dropship status` and `dropship results` make, as a port: one-shot commands read
 * through Firestore's REST API (firestore-rest-reader.ts), which costs no client library to
 * load; the console and the follow/watch modes hand in the Node client they already hold.
 * Paths are slash-separated, relative to the database's documents.
 */
export interface DocumentReader {
  /** the document's fields, or undefined when it does not exist */
  get(path: string): Promise<DocumentData | undefined>;
  /** every document of a collection, in id order */
  list(collection: string): Promise<Array<{ id: string; data: DocumentData }>>;
  /** the ids of a collection's documents, including ones that only have subcollections */
  listIds(collection: string): Promise<string[]>;
}

/** The port over the Firestore Node client (its values: Timestamp objects, numbers, Buffers). */
export function clientReader(db: Firestore): DocumentReader {
  return {
    async get(path) {
      const snap = await db.doc(path).get();
      return snap.exists ? snap.data() : undefined;
    },
    async list(collection) {
      const snap = await db.collection(collection).get();
      return snap.docs.map((d) => ({ id: d.id, data: d.data() }));
    },
    async listIds(collection) {
      return (await db.collection(collection).listDocuments()).map((d) => d.id);
    },
  };
}

/** Accepts either, so callers that hold a Firestore client keep passing it. */
export function asReader(source: Firestore | DocumentReader): DocumentReader {
  return 'listIds' in source ? source : clientReader(source);
}
