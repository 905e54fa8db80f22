// engine/live: the live simulated market on a durable venue (the server's `--sim` and the desktop's local
// venue). See engine/live/README.md.
export { MarketClock, realScheduler, startLiveMarket, toVenueCommand, type LiveMarket, type LiveMarketOptions } from './market.js';
