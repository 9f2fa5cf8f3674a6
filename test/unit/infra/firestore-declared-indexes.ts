import type { CompositeIndex, DeclaredIndexes, FieldOverride, IndexMode, QueryScope, ScopedMode } from './firestore-index-rules';
import { isObject, resources, type Block, type TerraformConfig } from './terraform-config';

/**
 * The Firestore indexes terraform declares: google_firestore_field overrides and
 * google_firestore_index composites on the default database. Anything this cannot read as a
 * literal (for_each, dynamic blocks, interpolated names) is an error, not a silent skip.
 */
export function declaredIndexes(cfg: TerraformConfig): DeclaredIndexes {
  const overrides: FieldOverride[] = resources(cfg, 'google_firestore_field').map(({ name, block }) => {
    const where = `google_firestore_field.${name}`;
    onDefaultDatabase(block, where);
    const configs = block.index_config as Block[] | undefined;
    if (configs !== undefined && (!Array.isArray(configs) || configs.length !== 1)) throw new Error(`${where}: expected one index_config block`);
    const override: FieldOverride = { collection: literal(block.collection, `${where}.collection`), field: literal(block.field, `${where}.field`) };
    if (configs) override.indexes = asArray(configs[0]!.indexes, `${where}.index_config.indexes`).map((ix, i) => scopedMode(ix, `${where}.index_config.indexes[${i}]`));
    return override;
  });
  const composites: CompositeIndex[] = resources(cfg, 'google_firestore_index').map(({ name, block }) => {
    const where = `google_firestore_index.${name}`;
    onDefaultDatabase(block, where);
    if (block.api_scope !== undefined && block.api_scope !== 'ANY_API') throw new Error(`${where}: api_scope ${String(block.api_scope)} does not serve Firestore Native queries`);
    const fields = asArray(block.fields, `${where}.fields`).map((f, i) => {
      const at = `${where}.fields[${i}]`;
      return { field: literal(f.field_path, `${at}.field_path`), mode: mode(f, at) };
    });
    return { collection: literal(block.collection, `${where}.collection`), scope: scope(block.query_scope, where), fields };
  });
  return { overrides, composites };
}

function onDefaultDatabase(block: Block, where: string): void {
  if (block.for_each !== undefined || block.count !== undefined || block.dynamic !== undefined)
    throw new Error(`${where}: for_each, count and dynamic blocks are not read by this check; write indexes out`);
  const db = block.database;
  if (db !== undefined && db !== '(default)' && db !== '${google_firestore_database.default.name}') throw new Error(`${where}: database ${String(db)} is not the default database the functions use`);
}

function scopedMode(ix: Block, where: string): ScopedMode {
  return { scope: scope(ix.query_scope, where), mode: mode(ix, where) };
}

function mode(ix: Block, where: string): IndexMode {
  if (ix.order !== undefined && ix.array_config !== undefined) throw new Error(`${where}: order and array_config are exclusive`);
  if (ix.order === 'ASCENDING' || ix.order === 'DESCENDING') return ix.order;
  if (ix.array_config === 'CONTAINS') return 'CONTAINS';
  throw new Error(`${where}: needs order ASCENDING|DESCENDING or array_config CONTAINS (vector indexes are not covered)`);
}

function scope(v: unknown, where: string): QueryScope {
  if (v === undefined || v === 'COLLECTION') return 'COLLECTION';
  if (v === 'COLLECTION_GROUP') return 'COLLECTION_GROUP';
  throw new Error(`${where}: query_scope ${String(v)} is not COLLECTION or COLLECTION_GROUP`);
}

function literal(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.includes('${')) throw new Error(`${where}: expected a literal string, got ${JSON.stringify(v)}`);
  return v;
}

function asArray(v: unknown, where: string): Block[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every(isObject)) throw new Error(`${where}: expected blocks`);
  return v as Block[];
}
