// renderer: the React UI (coming). Placeholder so the renderer typecheck has input.
export {};
