export * from './types.js';
export * from './codes.js';
export { Engine, type EngineOptions } from './engine.js';
export { type EngineSnapshot, hashText, TextHasher } from './snapshot.js';
export { checkInvariants, totals } from './invariants.js';
