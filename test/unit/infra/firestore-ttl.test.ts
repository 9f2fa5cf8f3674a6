import { EVENT_EXPIRY_FIELD, EVENT_RECORD_TTL_MS, eventRecordExpiry } from '#shared/labeling/adapters/event-done-marks';
import { loadTerraform, resources, type Block, type TerraformConfig } from './terraform-config';

/**
 * The Firestore emulator has no TTL: what deletes image-intake's event records on Google Cloud
 * is a TTL policy terraform declares, checked here against the field the code writes.
 */
describe('TTL policies on the event records', () => {
  let cfg: TerraformConfig;
  beforeAll(async () => {
    cfg = await loadTerraform();
  });

  const ttlFields = () =>
    resources(cfg, 'google_firestore_field')
      .filter(({ block }) => Array.isArray(block.ttl_config))
      .map(({ name, block }) => ({ name, collection: block.collection, field: block.field, indexConfig: block.index_config as Block[] | undefined }));

  it('deletes events and eventsDone documents by the field the claims and done marks carry, unindexed', () => {
    const fields = ttlFields();
    expect(fields.map((f) => [f.collection, f.field]).sort()).toEqual([
      ['events', EVENT_EXPIRY_FIELD],
      ['eventsDone', EVENT_EXPIRY_FIELD],
    ]);
    // an empty index_config: exempt from indexing (nothing queries it)
    for (const f of fields) expect(f.indexConfig?.map((c) => c.indexes ?? [])).toEqual([[]]);
  });

  it('keeps a record well past the 24 h Eventarc retries one event', () => {
    expect(EVENT_RECORD_TTL_MS).toBeGreaterThan(2 * 24 * 60 * 60_000);
    expect(eventRecordExpiry(1_000).toMillis()).toBe(1_000 + EVENT_RECORD_TTL_MS);
  });
});
