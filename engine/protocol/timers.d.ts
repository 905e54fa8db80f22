// The protocol layer runs in browsers, Electron and Node, so its typecheck (engine/protocol/tsconfig.json)
// sees neither DOM nor Node types. Plain ES2023 has no timers, yet a protocol client needs them (request
// time-outs, heartbeats, deferring a callback). These are the only host APIs the protocol may use; every
// host provides them. The handle is opaque on purpose: store it as `ReturnType<typeof setTimeout>` and
// the same code typechecks against DOM (number) and Node (NodeJS.Timeout) too.
// Only engine/protocol/tsconfig.json includes this file; no other config sees these declarations.

declare function setTimeout(callback: () => void, ms?: number): unknown;
declare function clearTimeout(handle: unknown): void;
declare function queueMicrotask(callback: () => void): void;
