/** UI bench page (filled in by bench/ui.ts's needs): placeholder until the bench lands. */
export {};
