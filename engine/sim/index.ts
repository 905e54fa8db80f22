// engine/sim: simulated market participants and replay (coming). Placeholder so its typecheck has input.
export {};
