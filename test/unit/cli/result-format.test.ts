import { csvHeader, csvLine, jsonLine, RESULT_COLUMNS, tableLine } from '#local/cli/result-format';

describe('result formats', () => {
  const ok = { id: 'a1', job: 'j', imageUri: 'gs://b/j/1.png', status: 'OK', label: 'Egyptian cat', confidence: 0.8966, error: null };
  const bad = { id: 'b2', job: 'j', imageUri: 'gs://b/j/x,"y".jpg', status: 'ERROR', label: null, confidence: null, error: 'not an image:\nzero bytes', reason: 'EMPTY' };

  test('CSV has one header and one column per field, quoting commas, quotes and newlines', () => {
    expect(csvHeader()).toBe(RESULT_COLUMNS.join(',') + '\n');
    const okCells = csvLine(ok).trimEnd().split(',');
    expect(okCells).toHaveLength(RESULT_COLUMNS.length);
    expect(okCells[RESULT_COLUMNS.indexOf('label')]).toBe('Egyptian cat');
    expect(okCells[RESULT_COLUMNS.indexOf('error')]).toBe('');
    const line = csvLine(bad);
    expect(line).toContain('"gs://b/j/x,""y"".jpg"');
    expect(line).toContain('"not an image:\nzero bytes"');
  });

  test('JSONL is one parseable object per line', () => {
    const text = jsonLine(ok) + jsonLine(bad);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1]!)).toEqual(bad);
  });

  test('the table shows the label and confidence, or the error', () => {
    expect(tableLine(ok)).toBe('gs://b/j/1.png  Egyptian cat (0.897)\n');
    expect(tableLine(bad)).toContain('ERROR not an image');
  });
});
