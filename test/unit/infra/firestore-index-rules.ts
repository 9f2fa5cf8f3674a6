/**
 * Which index a Firestore (Native mode, Standard edition) query needs, and whether a set of
 * declared indexes serves it: the rules of Google's "Index types" / "Manage indexes" pages
 * (cloud.google.com/firestore/docs/concepts/index-overview), written as a pure function so the
 * emulator's silence about indexes can be checked. The rules, in order:
 *
 * 1. Automatic single-field indexes exist only with COLLECTION scope: ascending, descending and
 *    array-contains, for every field and map subfield. Nothing exists by default with
 *    COLLECTION_GROUP scope.
 * 2. A single-field override (google_firestore_field with index_config) REPLACES the automatic
 *    settings of its field with exactly the indexes it lists (an empty index_config disables
 *    them all). A map field's override is inherited by its subfields unless a subfield has its
 *    own; `*` is the collection-wide override. An override without index_config (TTL only)
 *    leaves the automatic settings alone.
 * 3. A query is reduced to disjunctions of conjunctions (OR, `in`, `array-contains-any` and
 *    `not-in` run as such); each disjunct must be served on its own.
 * 4. In a disjunct: equality filters (==, in, is null, is NaN) need a value index (ascending or
 *    descending); array-contains(-any) needs an array-contains index. Inequalities (<, <=, >, >=,
 *    !=, not-in, is not null, is not NaN) order the result by their field: Firestore adds
 *    implicit orderBy clauses for inequality fields not already ordered (by field path), after
 *    the explicit ones. An orderBy on a field that also has an equality filter is a no-op.
 *    Filters and orders on `__name__` (the document id) use the built-in document-name index.
 * 5. Served without a composite index: no filter and no order (built-in); only equality-like
 *    filters, each field having the single-field index of the query's scope (index merging);
 *    or filters and orders that all name one field whose single-field index of the query's scope
 *    has the order's direction.
 * 6. Otherwise it needs a composite index of the query's scope and collection whose fields are
 *    the equality fields (any order, matching modes) followed by the order fields in the
 *    query's order and directions, then optionally `__name__` in the last order's direction.
 *    The check is conservative here: Firestore can also merge several composite indexes for
 *    some equality-heavy queries; this check asks for one that covers the query alone.
 * 7. Scopes never substitute for each other, and aggregations (count, sum, avg), projections,
 *    cursors, offsets and limits do not change what a query needs.
 */

export type QueryScope = 'COLLECTION' | 'COLLECTION_GROUP';
export type IndexMode = 'ASCENDING' | 'DESCENDING' | 'CONTAINS';
export type Direction = 'ASCENDING' | 'DESCENDING';

export interface ScopedMode {
  scope: QueryScope;
  mode: IndexMode;
}

/** A google_firestore_field: `indexes` undefined when it has no index_config (inherits). */
export interface FieldOverride {
  collection: string;
  field: string;
  indexes?: ScopedMode[];
}

export interface CompositeIndex {
  collection: string;
  scope: QueryScope;
  fields: Array<{ field: string; mode: IndexMode }>;
}

export interface DeclaredIndexes {
  overrides: FieldOverride[];
  composites: CompositeIndex[];
}

/** google.firestore.v1.StructuredQuery as protobufjs `toObject` gives it (enums as strings). */
export interface StructuredQuery {
  from?: Array<{ collectionId?: string; allDescendants?: boolean }>;
  where?: Filter;
  orderBy?: Array<{ field?: { fieldPath?: string }; direction?: string }>;
  findNearest?: unknown;
  [k: string]: unknown;
}

export interface Filter {
  compositeFilter?: { op?: string; filters?: Filter[] };
  fieldFilter?: { field?: { fieldPath?: string }; op?: string; value?: unknown };
  unaryFilter?: { op?: string; field?: { fieldPath?: string } };
}

/** What one disjunct of a query needs. */
export interface IndexNeed {
  collection: string;
  scope: QueryScope;
  equalities: Array<{ field: string; mode: 'VALUE' | 'CONTAINS' }>;
  orders: Array<{ field: string; direction: Direction }>;
  /** set when the query orders by document id against the direction the others imply */
  nameDirection?: Direction;
}

export interface QueryVerdict {
  ok: boolean;
  needs: IndexNeed[];
  /** one sentence per unserved disjunct, naming the index to declare */
  problems: string[];
}

const NAME = '__name__';
const EQUALITY = new Set(['EQUAL', 'IN']);
const CONTAINS = new Set(['ARRAY_CONTAINS', 'ARRAY_CONTAINS_ANY']);
const INEQUALITY = new Set(['LESS_THAN', 'LESS_THAN_OR_EQUAL', 'GREATER_THAN', 'GREATER_THAN_OR_EQUAL', 'NOT_EQUAL', 'NOT_IN']);
const UNARY_EQUALITY = new Set(['IS_NULL', 'IS_NAN']);
const UNARY_INEQUALITY = new Set(['IS_NOT_NULL', 'IS_NOT_NAN']);
const DEFAULT_MODES: ScopedMode[] = [
  { scope: 'COLLECTION', mode: 'ASCENDING' },
  { scope: 'COLLECTION', mode: 'DESCENDING' },
  { scope: 'COLLECTION', mode: 'CONTAINS' },
];

type Atom = { field: string; kind: 'VALUE' | 'CONTAINS' | 'INEQUALITY' };

/** The index needs of a structured query, one per disjunct of its filter. */
export function indexNeeds(query: StructuredQuery): IndexNeed[] {
  if (query.findNearest) throw new Error('vector (findNearest) queries are not covered by this check');
  const from = query.from ?? [];
  if (from.length !== 1) throw new Error(`a structured query reads exactly one collection; this one has ${from.length}`);
  const collection = from[0]!.collectionId ?? '';
  const scope: QueryScope = from[0]!.allDescendants ? 'COLLECTION_GROUP' : 'COLLECTION';
  const explicit = (query.orderBy ?? []).map((o) => ({ field: fieldPath(o.field?.fieldPath), direction: direction(o.direction) }));
  return disjuncts(query.where).map((atoms) => {
    const eq = new Map<string, 'VALUE' | 'CONTAINS'>();
    const ineq = new Set<string>();
    for (const a of atoms) {
      if (a.field === NAME) continue;
      if (a.kind === 'INEQUALITY') ineq.add(a.field);
      // A field both == and array-contains needs both modes; keep CONTAINS apart under its own key.
      else if (a.kind === 'CONTAINS') eq.set(`${a.field}\u0000contains`, 'CONTAINS');
      else eq.set(a.field, 'VALUE');
    }
    const equalities = [...eq.entries()].map(([k, mode]) => ({ field: k.split('\u0000')[0]!, mode }));
    const valueEq = new Set(equalities.filter((e) => e.mode === 'VALUE').map((e) => e.field));
    const orders: IndexNeed['orders'] = [];
    let nameDirection: Direction | undefined;
    for (const o of explicit) {
      if (o.field === NAME) {
        nameDirection = o.direction;
        break; // __name__ is the last key; nothing orders after it
      }
      if (valueEq.has(o.field) || orders.some((x) => x.field === o.field)) continue;
      orders.push(o);
    }
    if (nameDirection === undefined) {
      for (const f of [...ineq].sort()) if (!orders.some((o) => o.field === f)) orders.push({ field: f, direction: 'ASCENDING' });
    }
    const implied: Direction = orders.length ? orders[orders.length - 1]!.direction : 'ASCENDING';
    const need: IndexNeed = { collection, scope, equalities, orders };
    if (nameDirection !== undefined && nameDirection !== implied) need.nameDirection = nameDirection;
    return need;
  });
}

/** Whether the declared indexes serve every disjunct of the query; problems say what is missing. */
export function checkQuery(query: StructuredQuery, declared: DeclaredIndexes): QueryVerdict {
  const needs = indexNeeds(query);
  const problems = needs.map((n) => unserved(n, declared)).filter((p): p is string => p !== undefined);
  return { ok: problems.length === 0, needs, problems };
}

/** The single-field indexes a field has, after overrides (rule 2). */
export function singleFieldModes(declared: DeclaredIndexes, collection: string, field: string): ScopedMode[] {
  const own = declared.overrides.filter((o) => o.collection === collection && o.indexes !== undefined);
  const parts = field.split('.');
  for (let n = parts.length; n > 0; n--) {
    const path = parts.slice(0, n).join('.');
    const hit = own.find((o) => o.field === path);
    if (hit) return hit.indexes!;
  }
  const star = own.find((o) => o.field === '*');
  return star ? star.indexes! : DEFAULT_MODES;
}

function unserved(need: IndexNeed, declared: DeclaredIndexes): string | undefined {
  const { collection, scope, equalities, orders } = need;
  // the built-in document-name index runs either way
  if (equalities.length === 0 && orders.length === 0) return undefined;
  if (need.nameDirection === undefined) {
    const has = (field: string, ok: IndexMode[]) => singleFieldModes(declared, collection, field).some((m) => m.scope === scope && ok.includes(m.mode));
    if (orders.length === 0 && equalities.every((e) => has(e.field, e.mode === 'CONTAINS' ? ['CONTAINS'] : ['ASCENDING', 'DESCENDING']))) return undefined;
    if (equalities.length === 0 && orders.length === 1 && has(orders[0]!.field, [orders[0]!.direction])) return undefined;
  }
  if (declared.composites.some((c) => compositeServes(c, need))) return undefined;
  return `no declared index serves ${describe(need)}: declare ${suggestion(need, declared)}`;
}

function compositeServes(index: CompositeIndex, need: IndexNeed): boolean {
  if (index.collection !== need.collection || index.scope !== need.scope) return false;
  let fields = index.fields;
  const implied: Direction = need.orders.length ? need.orders[need.orders.length - 1]!.direction : 'ASCENDING';
  const wantName = need.nameDirection ?? implied;
  const last = fields[fields.length - 1];
  if (last?.field === NAME) {
    if (last.mode !== wantName) return false;
    fields = fields.slice(0, -1);
  } else if (need.nameDirection !== undefined) return false;
  if (fields.length !== need.equalities.length + need.orders.length) return false;
  const head = fields.slice(0, need.equalities.length);
  const tail = fields.slice(need.equalities.length);
  const eqOk = need.equalities.every((e) => head.some((f) => f.field === e.field && (e.mode === 'CONTAINS' ? f.mode === 'CONTAINS' : f.mode !== 'CONTAINS')));
  const ordersOk = need.orders.every((o, i) => tail[i]!.field === o.field && tail[i]!.mode === o.direction);
  return eqOk && ordersOk && new Set(head.map((f) => `${f.field}:${f.mode === 'CONTAINS'}`)).size === head.length;
}

function suggestion(need: IndexNeed, declared: DeclaredIndexes): string {
  const single = need.nameDirection === undefined && ((need.orders.length === 0 && need.equalities.length > 0) || (need.equalities.length === 0 && need.orders.length === 1));
  if (single) {
    const missing = [
      ...need.equalities.map((e) => ({ field: e.field, mode: (e.mode === 'CONTAINS' ? 'CONTAINS' : 'ASCENDING') as IndexMode })),
      ...need.orders.map((o) => ({ field: o.field, mode: o.direction as IndexMode })),
    ].filter(
      (f) =>
        !singleFieldModes(declared, need.collection, f.field).some(
          (m) => m.scope === need.scope && (m.mode === f.mode || (f.mode === 'ASCENDING' && m.mode === 'DESCENDING' && need.orders.length === 0)),
        ),
    );
    return missing
      .map((f) => `a google_firestore_field for ${need.collection}.${f.field} with a ${need.scope} ${f.mode} index (index_config replaces the automatic indexes: re-list the COLLECTION ones)`)
      .join('; ');
  }
  const fields = [
    ...need.equalities.map((e) => `${e.field} ${e.mode === 'CONTAINS' ? 'CONTAINS' : 'ASCENDING'}`),
    ...need.orders.map((o) => `${o.field} ${o.direction}`),
    ...(need.nameDirection ? [`__name__ ${need.nameDirection}`] : []),
  ];
  return `a google_firestore_index on ${need.collection} (${need.scope}) with fields ${fields.join(', ')}`;
}

export function describe(need: IndexNeed): string {
  const parts = [
    ...need.equalities.map((e) => `${e.field} ${e.mode === 'CONTAINS' ? 'array-contains' : '=='}`),
    ...need.orders.map((o) => `order ${o.field} ${o.direction === 'ASCENDING' ? 'asc' : 'desc'}`),
    ...(need.nameDirection ? [`order __name__ ${need.nameDirection === 'ASCENDING' ? 'asc' : 'desc'}`] : []),
  ];
  return `${need.scope === 'COLLECTION_GROUP' ? 'collectionGroup' : 'collection'}('${need.collection}')${parts.length ? ` [${parts.join(', ')}]` : ''}`;
}

/** The filter in disjunctive normal form: each inner list is one conjunction of atoms. */
function disjuncts(filter: Filter | undefined): Atom[][] {
  if (!filter) return [[]];
  if (filter.compositeFilter) {
    const parts = (filter.compositeFilter.filters ?? []).map(disjuncts);
    const op = filter.compositeFilter.op;
    if (op === 'OR') return parts.flat();
    if (op !== 'AND') throw new Error(`unknown composite filter operator ${op}`);
    return parts.reduce<Atom[][]>((acc, p) => acc.flatMap((a) => p.map((b) => [...a, ...b])), [[]]);
  }
  if (filter.fieldFilter) {
    const { op = '', field } = filter.fieldFilter;
    const path = fieldPath(field?.fieldPath);
    if (EQUALITY.has(op)) return [[{ field: path, kind: 'VALUE' }]];
    if (CONTAINS.has(op)) return [[{ field: path, kind: 'CONTAINS' }]];
    if (INEQUALITY.has(op)) return [[{ field: path, kind: 'INEQUALITY' }]];
    throw new Error(`unknown field filter operator ${op}`);
  }
  if (filter.unaryFilter) {
    const { op = '', field } = filter.unaryFilter;
    const path = fieldPath(field?.fieldPath);
    if (UNARY_EQUALITY.has(op)) return [[{ field: path, kind: 'VALUE' }]];
    if (UNARY_INEQUALITY.has(op)) return [[{ field: path, kind: 'INEQUALITY' }]];
    throw new Error(`unknown unary filter operator ${op}`);
  }
  throw new Error(`unknown filter ${JSON.stringify(filter)}`);
}

/** Field paths as the API writes them; segments quoted with backticks lose their quotes. */
function fieldPath(p: string | undefined): string {
  if (!p) throw new Error('a filter or order without a field path');
  return p.replace(/`((?:[^`\\]|\\.)*)`/g, (_, s: string) => s.replace(/\\(.)/g, '$1'));
}

function direction(d: string | undefined): Direction {
  if (d === undefined || d === 'ASCENDING' || d === 'DIRECTION_UNSPECIFIED') return 'ASCENDING';
  if (d === 'DESCENDING') return 'DESCENDING';
  throw new Error(`unknown order direction ${d}`);
}
