/**
 * engine/venue: the durable venue. One sequencer in front of the engine with a SQLite journal (group
 * commit), snapshots, recovery, history tables and queries, subscriptions, and the protocol handlers.
 */
export { Venue } from './venue.js';
export { amendCopy, copyDatabase, type CopyStep } from './backup.js';
export type { CopiedFile } from './backup.js';
export { historyPath, createBatchWriter, rowStatement } from './history-thread.js';
export { BACKGROUND_NICE, backgroundNice, setBackgroundNice, LOWER_PRIORITY_SOURCE } from './thread-priority.js';
export type { BatchWriter, HistoryBatch, RowStatement } from './history-thread.js';
export type { Ack, CommandTag, CommittedCommand, EngineView, HistoryArg, HistoryMethod, HistoryResult, MarketChange, RecoveryReport, VenueOptions } from './venue.js';
export { VenueError, isVenueError } from './errors.js';
export type { VenueErrorCode } from './errors.js';
export type { BracketRequest, PlaceOcoRequest, PlaceOrderRequest, VenueCommand, Encoded } from './codec.js';
export { decodeCommand, encodeCommand, commandTypeOf, orderIdsOf } from './codec.js';
export type {
  CandleQuery,
  ExecutionQuery,
  ExecutionRecord,
  OrderQuery,
  OrderStatusFilter,
  Page,
  Statement,
  StatementQuery,
  StatsQuery,
} from './queries.js';
export { SCHEMA_VERSION, MIGRATIONS, fullSyncOnMac, FULL_SYNC_ON_MAC_SOURCE, WAL_SIZE_LIMIT } from './schema.js';
export type { SynchronousLevel } from './schema.js';
export { CandleFeed } from './candle-feed.js';
export { venueHandlers, venueErrorToProtocol, STATEMENT_MAX_ENTRIES, MAX_ARMED_ALERTS } from './serve.js';
export { MAX_TRIGGERED_ALERTS, type NewAlert } from './alerts.js';
export type { VenueHandlers } from './serve.js';
