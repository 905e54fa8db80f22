import { describe, expect, it } from 'vitest';
import { deleteNamed, MAX_LAYOUTS, parseNamed, saveNamed, serializeNamed } from '../../../src/power/namedLayouts.js';

describe('named layouts', () => {
  const a = { v: 1, columns: [{ w: 1, panels: [] }] };
  const b = { v: 1, columns: [] };
  it('saves, overwrites by name in place, deletes and round-trips', () => {
    let list = saveNamed([], ' Morning ', a, 1);
    list = saveNamed(list, 'Scalping', b, 2);
    list = saveNamed(list, 'Morning', b, 3);
    expect(list.map((l) => [l.name, l.savedAt, l.layout])).toEqual([
      ['Morning', 3, b],
      ['Scalping', 2, b],
    ]);
    expect(parseNamed(serializeNamed(list))).toEqual({ list });
    expect(deleteNamed(list, 'Morning').map((l) => l.name)).toEqual(['Scalping']);
  });
  it('refuses an empty name and more than the maximum', () => {
    expect(() => saveNamed([], '  ', a, 1)).toThrow(/name/);
    let list = saveNamed([], 'x0', a, 0);
    for (let i = 1; i < MAX_LAYOUTS; i++) list = saveNamed(list, `x${i}`, a, i);
    expect(() => saveNamed(list, 'one more', a, 99)).toThrow(/At most/);
    expect(saveNamed(list, 'x3', b, 99)).toHaveLength(MAX_LAYOUTS); // overwriting is fine
  });
  it('reads nothing or garbage as an empty list, with the reason', () => {
    expect(parseNamed(null)).toEqual({ list: [] });
    expect(parseNamed('{').error).toMatch(/Not JSON/);
    expect(parseNamed(JSON.stringify({ version: 2, layouts: [] })).list).toEqual([]);
    expect(parseNamed(JSON.stringify({ version: 1, layouts: [{ name: '', savedAt: 1, layout: {} }] })).error).toBeDefined();
  });
});
