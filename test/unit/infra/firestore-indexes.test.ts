import { declaredIndexes } from './firestore-declared-indexes';
import { checkQuery, indexNeeds, type DeclaredIndexes, type Filter, type StructuredQuery } from './firestore-index-rules';
import { loadTerraform, type TerraformConfig } from './terraform-config';

/** StructuredQuery builders in the shape the client sends (see firestore-index-rules.ts). */
const eq = (field: string, value: unknown = 'x'): Filter => ({ fieldFilter: { field: { fieldPath: field }, op: 'EQUAL', value } });
const op = (field: string, o: string): Filter => ({ fieldFilter: { field: { fieldPath: field }, op: o, value: {} } });
const and = (...filters: Filter[]): Filter => ({ compositeFilter: { op: 'AND', filters } });
const or = (...filters: Filter[]): Filter => ({ compositeFilter: { op: 'OR', filters } });
const order = (field: string, direction = 'ASCENDING') => ({ field: { fieldPath: field }, direction });
function query(collectionId: string, opts: { group?: boolean; where?: Filter; orderBy?: ReturnType<typeof order>[] } = {}): StructuredQuery {
  return { from: [{ collectionId, allDescendants: opts.group ?? false }], ...(opts.where ? { where: opts.where } : {}), ...(opts.orderBy ? { orderBy: opts.orderBy } : {}) };
}

// The deployed code's queries, as the client encodes them (the integration test records the real ones).
const reconcilerBusy = query('versions', { group: true, where: op('state', 'IN') });
const reconcilerUndeploying = query('versions', { group: true, where: eq('operation.kind', 'undeploy') });
const deployedVersionsOfOneModel = query('versions', { where: eq('state', 'DEPLOYED') });
const resultsByStatus = query('results', { where: eq('status', 'OK') });
const canaryAnalysisResults = query('results', { group: true, where: and(eq('deployedModelId'), op('createdAt', 'GREATER_THAN_OR_EQUAL')) });

/** The console's results gallery: every combination of its filters, with the orders it sends. */
function consoleGalleryQueries(): [string, StructuredQuery][] {
  const out: [string, StructuredQuery][] = [];
  for (const status of [false, true])
    for (const label of [false, true])
      for (const confidence of [false, true]) {
        const filters = [...(status ? [eq('status', 'OK')] : []), ...(label ? [eq('label', '7')] : []), ...(confidence ? [op('confidence', 'GREATER_THAN_OR_EQUAL')] : [])];
        const orderBy = confidence ? [order('confidence', 'DESCENDING'), order('__name__', 'DESCENDING')] : [order('__name__')];
        const where = filters.length === 0 ? undefined : filters.length === 1 ? filters[0] : and(...filters);
        out.push([`the console gallery: status ${status}, label ${label}, confidence ${confidence}`, query('results', { ...(where ? { where } : {}), orderBy })]);
      }
  return out;
}

const NONE: DeclaredIndexes = { overrides: [], composites: [] };

describe('terraform declares the indexes the deployed queries need', () => {
  let cfg: TerraformConfig;
  let declared: DeclaredIndexes;
  beforeAll(async () => {
    cfg = await loadTerraform();
    declared = declaredIndexes(cfg);
  });

  it.each([
    ['the reconciler: collectionGroup(versions) where state in [...]', reconcilerBusy],
    ['the reconciler: collectionGroup(versions) where operation.kind == undeploy', reconcilerUndeploying],
    ["predict-worker: a model's DEPLOYED versions (collection scope)", deployedVersionsOfOneModel],
    ["the CLI's results counts by status", resultsByStatus],
    ['the canary analysis: collectionGroup(results) where deployedModelId == and createdAt >=', canaryAnalysisResults],
    ['a plain collection read (status, results)', query('results')],
    ...consoleGalleryQueries(),
  ])('%s is served', (_, q) => {
    expect(checkQuery(q, declared).problems).toEqual([]);
  });

  it('without its composite indexes, the console gallery with a confidence bound after a status filter is not served', () => {
    const [, q] = consoleGalleryQueries().find(([name]) => name.includes('status true, label false, confidence true'))!;
    expect(checkQuery(q, { ...declared, composites: [] }).ok).toBe(false);
    expect(checkQuery(q, declared).ok).toBe(true);
  });

  it('without the field overrides, the reconciler query fails and the message names the missing override', () => {
    const verdict = checkQuery(reconcilerBusy, { ...declared, overrides: [] });
    expect(verdict.ok).toBe(false);
    expect(verdict.problems[0]).toMatch(/collectionGroup\('versions'\) \[state ==\].*google_firestore_field for versions\.state with a COLLECTION_GROUP ASCENDING index/);
  });

  it('an override that lists only the collection-group index takes the automatic collection-scope ones away', () => {
    const onlyGroup: DeclaredIndexes = { overrides: [{ collection: 'versions', field: 'state', indexes: [{ scope: 'COLLECTION_GROUP', mode: 'ASCENDING' }] }], composites: [] };
    expect(checkQuery(reconcilerBusy, onlyGroup).ok).toBe(true);
    expect(checkQuery(deployedVersionsOfOneModel, onlyGroup).ok).toBe(false);
    expect(checkQuery(query('versions', { where: op('state', 'ARRAY_CONTAINS') }), onlyGroup).ok).toBe(false);
  });
});

describe("Firestore's index rules", () => {
  it('collection-scope single-field indexes exist by default; collection-group ones do not', () => {
    expect(checkQuery(query('results', { where: op('latencyMs', 'GREATER_THAN') }), NONE).ok).toBe(true);
    expect(checkQuery(query('results', { orderBy: [order('createdAt', 'DESCENDING')] }), NONE).ok).toBe(true);
    expect(checkQuery(query('results', { where: op('tags', 'ARRAY_CONTAINS') }), NONE).ok).toBe(true);
    expect(checkQuery(query('results', { group: true }), NONE).ok).toBe(true); // no filter, no order: built in
    expect(checkQuery(query('results', { group: true, where: eq('status') }), NONE).ok).toBe(false);
    expect(checkQuery(query('results', { group: true, orderBy: [order('createdAt')] }), NONE).ok).toBe(false);
  });

  it('equality filters on several fields merge single-field indexes; adding an order or a range on another field needs a composite', () => {
    expect(checkQuery(query('results', { where: and(eq('status'), eq('label')) }), NONE).ok).toBe(true);
    expect(checkQuery(query('results', { where: and(eq('status'), op('tags', 'ARRAY_CONTAINS')) }), NONE).ok).toBe(true);
    const eqThenOrder = query('results', { where: eq('status'), orderBy: [order('createdAt', 'DESCENDING')] });
    const eqThenRange = query('results', { where: and(eq('status'), op('latencyMs', 'LESS_THAN')) });
    const verdict = checkQuery(eqThenOrder, NONE);
    expect(verdict.problems[0]).toMatch(/google_firestore_index on results \(COLLECTION\) with fields status ASCENDING, createdAt DESCENDING/);
    expect(checkQuery(eqThenRange, NONE).ok).toBe(false);
    const composite: DeclaredIndexes = {
      overrides: [],
      composites: [
        {
          collection: 'results',
          scope: 'COLLECTION',
          fields: [
            { field: 'status', mode: 'ASCENDING' },
            { field: 'createdAt', mode: 'DESCENDING' },
          ],
        },
      ],
    };
    expect(checkQuery(eqThenOrder, composite).ok).toBe(true);
    // the direction of an order field matters, the scope matters, and extra fields do not fit
    expect(checkQuery(query('results', { where: eq('status'), orderBy: [order('createdAt')] }), composite).ok).toBe(false);
    expect(checkQuery({ ...eqThenOrder, from: [{ collectionId: 'results', allDescendants: true }] }, composite).ok).toBe(false);
    expect(checkQuery(query('results', { orderBy: [order('createdAt', 'DESCENDING')], where: and(eq('status'), eq('label')) }), composite).ok).toBe(false);
  });

  it('inequalities order by their field, after explicit orders; ordering by an equality field is a no-op', () => {
    expect(indexNeeds(query('v', { where: and(op('b', 'GREATER_THAN'), op('a', 'NOT_EQUAL')), orderBy: [order('c', 'DESCENDING')] }))[0]!.orders).toEqual([
      { field: 'c', direction: 'DESCENDING' },
      { field: 'a', direction: 'ASCENDING' },
      { field: 'b', direction: 'ASCENDING' },
    ]);
    expect(checkQuery(query('v', { where: eq('a'), orderBy: [order('a', 'DESCENDING')] }), NONE).ok).toBe(true);
    expect(checkQuery(query('v', { where: op('a', 'LESS_THAN'), orderBy: [order('a', 'DESCENDING')] }), NONE).ok).toBe(true);
    expect(checkQuery(query('v', { where: op('a', 'NOT_IN'), orderBy: [order('b')] }), NONE).ok).toBe(false);
    expect(checkQuery(query('v', { where: and(op('a', 'LESS_THAN'), op('b', 'GREATER_THAN')) }), NONE).ok).toBe(false);
  });

  it('each branch of an OR must be served on its own', () => {
    const q = query('versions', { group: true, where: or(eq('state'), eq('operation.kind')) });
    const onlyState: DeclaredIndexes = { overrides: [{ collection: 'versions', field: 'state', indexes: [{ scope: 'COLLECTION_GROUP', mode: 'DESCENDING' }] }], composites: [] };
    const verdict = checkQuery(q, onlyState);
    expect(verdict.needs).toHaveLength(2);
    expect(verdict.problems).toHaveLength(1);
    expect(verdict.problems[0]).toMatch(/operation\.kind/);
  });

  it('a map field override is inherited by its subfields unless they have their own', () => {
    const q = query('versions', { where: eq('operation.kind') });
    const mapOff: DeclaredIndexes = { overrides: [{ collection: 'versions', field: 'operation', indexes: [] }], composites: [] };
    expect(checkQuery(q, mapOff).ok).toBe(false);
    const subOn: DeclaredIndexes = { overrides: [...mapOff.overrides, { collection: 'versions', field: 'operation.kind', indexes: [{ scope: 'COLLECTION', mode: 'ASCENDING' }] }], composites: [] };
    expect(checkQuery(q, subOn).ok).toBe(true);
    // an override without index_config (TTL only) leaves the automatic indexes alone
    expect(checkQuery(q, { overrides: [{ collection: 'versions', field: 'operation' }], composites: [] }).ok).toBe(true);
  });

  it('a descending document-id order with a filter needs a composite ending in __name__ DESCENDING', () => {
    const q = query('results', { where: eq('status'), orderBy: [order('__name__', 'DESCENDING')] });
    expect(checkQuery(q, NONE).ok).toBe(false);
    const withName: DeclaredIndexes = {
      overrides: [],
      composites: [
        {
          collection: 'results',
          scope: 'COLLECTION',
          fields: [
            { field: 'status', mode: 'ASCENDING' },
            { field: '__name__', mode: 'DESCENDING' },
          ],
        },
      ],
    };
    expect(checkQuery(q, withName).ok).toBe(true);
    expect(checkQuery(query('results', { orderBy: [order('__name__', 'DESCENDING')] }), NONE).ok).toBe(true);
  });

  it('fails loudly on what it does not model', () => {
    expect(() => checkQuery({ ...query('v'), findNearest: {} }, NONE)).toThrow(/findNearest/);
    expect(() => checkQuery(query('v', { where: op('a', 'LIKE') }), NONE)).toThrow(/unknown field filter operator LIKE/);
  });
});
