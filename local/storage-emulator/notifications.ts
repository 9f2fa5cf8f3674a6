import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DELETED, FINALIZED, normalizeEventType, type StorageEventType } from './cloud-event';

/** A subscription of a URL to a bucket's object events, like an Eventarc trigger. */
export interface Notification {
  id: string;
  bucket: string;
  url: string;
  eventTypes: StorageEventType[];
  objectNamePrefix?: string;
}

export const notificationInputSchema = z.object({
  bucket: z.string().min(1),
  url: z.url({ protocol: /^https?$/ }),
  eventTypes: z
    .array(z.string())
    .optional()
    .transform((types, ctx) => {
      if (!types || types.length === 0) return [FINALIZED, DELETED] as StorageEventType[];
      const out: StorageEventType[] = [];
      for (const t of types) {
        const n = normalizeEventType(t);
        if (!n) {
          ctx.addIssue({ code: 'custom', message: `unknown event type: ${t}` });
          return z.NEVER;
        }
        out.push(n);
      }
      return out;
    }),
  objectNamePrefix: z.string().optional(),
});

export type NotificationInput = z.input<typeof notificationInputSchema>;

/** The subscriptions, kept in the data folder so they outlive a restart. */
export class NotificationRegistry {
  private list: Notification[] = [];

  constructor(
    private readonly file: string,
    private readonly save: (path: string, value: unknown) => Promise<void>,
  ) {}

  async load(): Promise<void> {
    const text = await readFile(this.file, 'utf8').catch(() => undefined);
    this.list = text ? (JSON.parse(text) as Notification[]) : [];
  }

  /** Adds a subscription; the same bucket, URL, types and prefix again is not added twice. */
  async add(input: NotificationInput): Promise<Notification> {
    const parsed = notificationInputSchema.parse(input);
    const same = this.list.find(
      (n) => n.bucket === parsed.bucket && n.url === parsed.url && (n.objectNamePrefix ?? '') === (parsed.objectNamePrefix ?? '') && n.eventTypes.join() === parsed.eventTypes.join(),
    );
    if (same) return same;
    const n: Notification = { id: randomUUID(), ...parsed };
    if (!n.objectNamePrefix) delete n.objectNamePrefix;
    this.list = [...this.list, n];
    await this.save(this.file, this.list);
    return n;
  }

  async remove(id: string): Promise<boolean> {
    const before = this.list.length;
    this.list = this.list.filter((n) => n.id !== id);
    if (this.list.length === before) return false;
    await this.save(this.file, this.list);
    return true;
  }

  all(): readonly Notification[] {
    return this.list;
  }

  matching(type: StorageEventType, bucket: string, name: string): Notification[] {
    return this.list.filter((n) => n.bucket === bucket && n.eventTypes.includes(type) && name.startsWith(n.objectNamePrefix ?? ''));
  }
}
