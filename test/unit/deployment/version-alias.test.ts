import { VERSION_ALIAS, versionAlias } from '#shared/deployment/core/version-alias';

describe('versionAlias', () => {
  it.each([
    ['v2', 'v2'],
    ['2', 'v2'],
    ['2024-06-01', 'v2024-06-01'],
    ['V1.0_rc', 'v1-0-rc'],
    ['canary-', 'canary'],
    ['default', 'v-default'],
    ['x', 'x0'],
    ['...', 'v0'],
  ])('%s -> %s', (folder, alias) => {
    // Act / Assess
    expect(versionAlias(folder)).toBe(alias);
  });

  it('always yields an alias Vertex accepts, even from long odd names', () => {
    // Prepare
    const folders = ['a'.repeat(300), '9'.repeat(200), 'ÄÖÜ', '-_-', 'Model Version 3!'];
    // Act / Assess
    for (const f of folders) expect(versionAlias(f)).toMatch(VERSION_ALIAS);
  });
});
