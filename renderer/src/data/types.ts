/** The protocol types the UI uses, in one place (all from engine/protocol's index). */
export type {
  AccountView,
  Candle,
  ChannelData,
  ChannelName,
  ChannelParams,
  Execution,
  HubStatus,
  IndexView,
  InstrumentView,
  MethodName,
  OrderRecord,
  OrderType,
  ParamsOf,
  PositionView,
  Quote,
  ResultCode,
  ResultOf,
  Side,
  TimeInForce,
  Timeframe,
  TradePrint,
} from '../../../engine/protocol/index.js';
import type { ParamsOf } from '../../../engine/protocol/index.js';

export type PlaceOrderParams = ParamsOf<'order.place'>;
