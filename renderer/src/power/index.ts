/**
 * Power-trader features: pure models (indicators, depth ladder, drawings, hotkeys and intents, layouts and
 * link groups, price alerts) and the React components and chart controllers built on them. Components take
 * plain props and callbacks; fetching and sending is the app's job.
 */
export * from './indicators.js';
export * from './ladder.js';
export * from './drawings.js';
export * from './hotkeys.js';
export * from './intents.js';
export * from './layout.js';
export * from './alerts.js';
