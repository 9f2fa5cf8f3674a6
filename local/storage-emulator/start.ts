import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createLogger, type Logger } from '#shared/logging/logger';
import { DataLayout } from './data-layout';
import { storageCloudEvent } from './cloud-event';
import { EventDelivery, type DeliveryFaults } from './event-delivery';
import { FolderWatcher } from './folder-watcher';
import { createApiHandler } from './json-api';
import { NotificationRegistry, type NotificationInput } from './notifications';
import { ObjectStore, type StoreEvent } from './object-store';
import { ResumableUploads } from './resumable-uploads';
import { DEFAULT_REDELIVERY, type RedeliveryPolicy } from './redelivery-policy';

export interface StorageEmulatorOptions {
  /** 0 or unset: any free port */
  port?: number;
  dataDir: string;
  /** a file copied into the folder is taken once unchanged for this long (default 500 ms) */
  settleMs?: number;
  delivery?: DeliveryFaults;
  /** how often the folder is rescanned besides fs.watch (default 2 s) */
  rescanMs?: number;
  /** bounds on retrying a failed event delivery */
  retry?: Partial<RedeliveryPolicy>;
  /** per-attempt timeout of an event delivery (default 30 s) */
  deliveryTimeoutMs?: number;
  logger?: Logger;
}

export interface StorageEmulator {
  port: number;
  /** http://127.0.0.1:port, for STORAGE_EMULATOR_HOST or apiEndpoint */
  url: string;
  addNotification(n: NotificationInput): Promise<void>;
  setDelivery(d: DeliveryFaults): void;
  /** resolves when no file is settling and no event delivery is pending */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the Cloud Storage emulator on 127.0.0.1: the JSON API backed by a folder, object
 * events pushed as Eventarc CloudEvents to subscribed URLs, files copied into the folder
 * taken as uploads.
 */
export async function startStorageEmulator(opts: StorageEmulatorOptions): Promise<StorageEmulator> {
  const dataDir = resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true });
  const logger = opts.logger ?? createLogger({ component: 'storage-emulator' });
  let baseUrl = '';
  const layout = new DataLayout(dataDir);
  const delivery = new EventDelivery({
    retry: { ...DEFAULT_REDELIVERY, ...opts.retry },
    deadLetterFile: layout.deadLetterFile,
    logger,
    timeoutMs: opts.deliveryTimeoutMs,
  });
  delivery.setFaults(opts.delivery ?? {});
  const notifications = new NotificationRegistry(layout.notificationsFile, (p, v) => store.writeJsonAtomic(p, v));
  const onEvent = (e: StoreEvent) => {
    for (const n of notifications.matching(e.type, e.record.bucket, e.record.name)) {
      delivery.send(n.url, storageCloudEvent(e.type, e.record, baseUrl, e.time));
    }
  };
  const store = await ObjectStore.open(dataDir, onEvent);
  await notifications.load();
  const uploads = new ResumableUploads(store.layout.uploadsDir);
  const watcher = new FolderWatcher(store, { settleMs: opts.settleMs ?? 500, rescanMs: opts.rescanMs ?? 2000, logger });

  const idle = async () => {
    await watcher.rescan();
    for (;;) {
      while (watcher.busy || store.busy) await sleep(10);
      await delivery.idle();
      if (!watcher.busy && !store.busy && !delivery.busy) return;
    }
  };

  const server: Server = createServer(createApiHandler({ store, uploads, notifications, setDelivery: (d) => delivery.setFaults(d), idle, logger }));
  // Outlive the client's idle keep-alive sockets (Google's front ends keep them ~65 s): with
  // Node's 5 s default the server closes a socket the client is just reusing (ECONNRESET), and
  // the client does not retry an upload without a precondition.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;
  await watcher.start();
  logger.info('storage emulator listening', { url: baseUrl, dataDir });
  let stopping: Promise<void> | undefined;

  return {
    port,
    url: baseUrl,
    addNotification: async (n) => {
      await notifications.add(n);
    },
    setDelivery: (d) => delivery.setFaults(d),
    idle,
    // once: a second call (the stack stops it early, then again in order) waits for the first
    stop: () =>
      (stopping ??= (async () => {
        watcher.stop();
        await delivery.stop();
        await new Promise<void>((ok) => {
          server.closeAllConnections();
          server.close(() => ok());
        });
      })()),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
