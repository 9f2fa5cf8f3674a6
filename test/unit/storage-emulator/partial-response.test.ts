import { applyFields, parseFields } from '#local/storage-emulator/partial-response';

const listing = {
  kind: 'storage#objects',
  nextPageToken: 't',
  prefixes: ['a/'],
  items: [
    { kind: 'storage#object', name: 'x', size: '1', generation: '7', metadata: { 'goog-reserved-file-mtime': '100', owner: 'me' } },
    { kind: 'storage#object', name: 'y', size: '2', generation: '8' },
  ],
};

describe('partial responses (fields=)', () => {
  it("keeps what gcloud's listing projection names, element by element", () => {
    const mask = parseFields('prefixes,items/name,items/size,items/metadata/goog-reserved-file-mtime,nextPageToken');
    expect(applyFields(listing, mask)).toEqual({
      nextPageToken: 't',
      prefixes: ['a/'],
      items: [
        { name: 'x', size: '1', metadata: { 'goog-reserved-file-mtime': '100' } },
        { name: 'y', size: '2' },
      ],
    });
  });

  it('takes a(b,c) sub-selections, the * wildcard, and merges repeated paths', () => {
    expect(applyFields(listing, parseFields('items(name,generation)'))).toEqual({
      items: [
        { name: 'x', generation: '7' },
        { name: 'y', generation: '8' },
      ],
    });
    expect(applyFields(listing.items[0], parseFields('*'))).toEqual(listing.items[0]);
    expect(applyFields(listing, parseFields('items/name, items(size), kind'))).toEqual({
      kind: 'storage#objects',
      items: [
        { name: 'x', size: '1' },
        { name: 'y', size: '2' },
      ],
    });
    expect(applyFields(listing.items[0], parseFields('metadata,metadata/owner'))).toEqual({ metadata: listing.items[0]!.metadata });
  });

  it('answers 400 for a selection it cannot read', () => {
    for (const bad of ['', 'items(name', 'items)', 'a,,b', 'a/', 'a b']) {
      expect(() => parseFields(bad)).toThrow(expect.objectContaining({ status: 400 }));
    }
  });
});
