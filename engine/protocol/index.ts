/**
 * engine/protocol: the one protocol between every client (renderer, strategies, tools) and a venue.
 * Import from here; the renderer must not reach into engine/core, so the codes and read-model types it
 * needs are re-exported below.
 */
export { addCloseListener, callEach, messageInbox, createPortPair, assertJsonSafe } from './port.js';
export type { Port, CloseInfo, PortPairOptions } from './port.js';
export { socketPort } from './socket-port.js';
export type { WebSocketLike } from './socket-port.js';

export { ProtocolError, isProtocolError, toErrorShape, issuesToDetails, httpRefusal, responseBody } from './errors.js';

export * from './messages.js';
export * from './schemas.js';
export * from './methods.js';
export * from './hub.js';
export * from './rest.js';

export { ProtocolClient, DEFAULT_TIMEOUT_MS } from './client.js';
export { Connection, backoffDelay, defaultIsFatal } from './connection.js';
export type {
  BackoffOptions,
  ConnectionOptions,
  ConnectionState as ConnectionLinkState,
  ConnectionStatus,
  ConnectionSubscription,
  ConnectionSubscriptionHandlers,
} from './connection.js';
export type {
  CallArgs,
  CallOptions,
  ClientCloseInfo,
  ClientOptions,
  ClientState,
  ConnectOptions,
  Subscription,
  SubscriptionHandlers,
} from './client.js';

export { serveSession, requireAccount, defaultCheckAccess, usableId } from './server.js';
export type {
  AnyChannelHandlers,
  AnyMethodHandlers,
  ChannelHandler,
  ChannelHandlers,
  ExchangeChannelName,
  ExchangeMethodName,
  HubChannelHandlers,
  HubMethodHandlers,
  FlowControl,
  MethodHandler,
  MethodHandlers,
  PushSink,
  ServeOptions,
  SessionContext,
  SessionHandle,
} from './server.js';

export { CODES, RESULT_CODES, isResultCode } from '../core/codes.js';
export type { CodeStage, ErrorShape, ResultCode } from '../core/codes.js';
export { TIMEFRAMES, TIMEFRAME_MS } from '../core/types.js';
export type {
  AccountId,
  AccountLimits,
  AccountView,
  BracketSpec,
  CancelReason,
  Candle,
  Depth,
  DepthLevel,
  IndexView,
  InstrumentSpec,
  InstrumentStatus,
  InstrumentView,
  Money,
  OrderId,
  OrderSpec,
  OrderStatus,
  OrderType,
  OrderView,
  PositionView,
  Price,
  Qty,
  Quote,
  Side,
  StpMode,
  TimeInForce,
  Timeframe,
  Timestamp,
  TradeId,
} from '../core/types.js';
