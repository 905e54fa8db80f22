export * from './types.js';
export * from './codes.js';
export { Engine, type EngineOptions } from './engine.js';
export { type CaptureArrays, captureArrays, type EngineSnapshot, type OrderCapture, type StateCapture, hashText, TextHasher } from './snapshot.js';
export { checkInvariants, totals } from './invariants.js';
