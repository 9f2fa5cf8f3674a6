import { paginate, parseListFilter, type Filterable } from '#local/vertex-emulator/list-filter';

describe('list filters and pages', () => {
  const items: Filterable[] = [
    { displayName: 'mnist', labels: { team: 'vision' } },
    { displayName: 'mnist-canary', labels: {} },
    { displayName: 'other thing', labels: { team: 'speech' } },
  ];
  const names = (filter: string) => items.filter(parseListFilter(filter)).map((i) => i.displayName);

  it('filters by display name, labels, and both', () => {
    expect(names('')).toHaveLength(3);
    expect(names('display_name="mnist"')).toEqual(['mnist']);
    expect(names('displayName=mnist-canary')).toEqual(['mnist-canary']);
    expect(names('display_name="other thing"')).toEqual(['other thing']);
    expect(names('labels.team:*')).toEqual(['mnist', 'other thing']);
    expect(names('labels.team="speech" AND display_name="other thing"')).toEqual(['other thing']);
  });

  it('refuses what it does not understand instead of returning everything', () => {
    expect(() => parseListFilter('create_time > "2024"')).toThrow(/unsupported filter/);
  });

  it('pages with offset tokens', () => {
    const all = [1, 2, 3, 4, 5];
    expect(paginate(all, 2, undefined)).toEqual({ page: [1, 2], nextPageToken: '2' });
    expect(paginate(all, 2, '4')).toEqual({ page: [5], nextPageToken: '' });
    expect(() => paginate(all, 2, 'x')).toThrow(/page token/);
  });
});
