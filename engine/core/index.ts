export * from './types.js';
export * from './codes.js';
export { Engine, type EngineOptions } from './engine.js';
export { type EngineSnapshot, hashText } from './snapshot.js';
export { checkInvariants, totals } from './invariants.js';
