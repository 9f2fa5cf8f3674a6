/** Vertex version aliases: `[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]` (FACTS.md). */
export const VERSION_ALIAS = /^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]$/;

/**
 * A version alias derived from the folder name, so `models/ID@<alias>` addresses the version
 * users dropped: characters outside the alias alphabet become hyphens, an upper-case first
 * letter is lowered, a folder that does not start with a letter (`2`, `2024-01-01`) gets a
 * `v` prefix, and `default` (Vertex's own alias) becomes `v-default`.
 */
export function versionAlias(folder: string): string {
  let alias = folder
    .replace(/[^a-zA-Z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (/^[A-Z]/.test(alias)) alias = alias[0]!.toLowerCase() + alias.slice(1);
  if (!/^[a-z]/.test(alias)) alias = `v${alias}`;
  alias = alias.slice(0, 128).replace(/-+$/, '');
  if (alias.length < 2 || !/[a-z0-9]$/.test(alias)) alias = `${alias}0`;
  if (alias === 'default') alias = 'v-default';
  return alias;
}
