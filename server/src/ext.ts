/**
 * Server-declared additions to the protocol table: price alerts. They use the same shapes as the table in
 * engine/protocol/methods.ts (access level, strict zod params, result/data schema, doc) and the same wire
 * envelope; the WebSocket layer routes them before the protocol session sees them, and the REST route
 * looks them up next to the table. They belong in engine/protocol (see the report): once `alerts.*` and the
 * `alerts` channel are in METHODS/CHANNELS, this file reduces to the handlers.
 */
import { z } from 'zod';
import { PriceSchema, SymbolSchema, TimestampSchema, type Access } from '../../engine/protocol/index.js';

export const AlertSchema = z.object({
  id: z.int().nonnegative(),
  symbol: SymbolSchema,
  direction: z.enum(['above', 'below']),
  price: PriceSchema,
  note: z.string().max(200).optional(),
  createdAt: TimestampSchema,
  /** When the last trade price first reached the level; absent while the alert is armed. */
  triggeredAt: TimestampSchema.optional(),
  triggerPrice: PriceSchema.optional(),
});
export type Alert = z.output<typeof AlertSchema>;

export interface ExtMethodDef {
  access: Access;
  params: z.ZodType;
  result: z.ZodType;
  doc: string;
}
export interface ExtChannelDef {
  access: Access;
  params: z.ZodType;
  data: z.ZodType;
  doc: string;
}

export const EXT_METHODS = {
  'alerts.list': {
    access: 'viewer',
    params: z.strictObject({}),
    result: z.array(AlertSchema),
    doc: 'My price alerts, newest first (armed and triggered).',
  },
  'alerts.create': {
    access: 'viewer',
    params: z.strictObject({
      symbol: SymbolSchema,
      direction: z.enum(['above', 'below']),
      price: PriceSchema,
      note: z.string().max(200).optional(),
    }),
    result: AlertSchema,
    doc: 'Alert me once when a trade prints at or above (or at or below) the price.',
  },
  'alerts.delete': {
    access: 'viewer',
    params: z.strictObject({ id: z.int().nonnegative() }),
    result: z.object({ deleted: z.boolean() }),
    doc: 'Delete one of my alerts.',
  },
} as const satisfies Record<string, ExtMethodDef>;

export const EXT_CHANNELS = {
  alerts: {
    access: 'viewer',
    params: z.strictObject({}),
    data: AlertSchema,
    doc: 'Each of my alerts as it triggers (also stored: see alerts.list).',
  },
} as const satisfies Record<string, ExtChannelDef>;

export type ExtMethodName = keyof typeof EXT_METHODS;
export type ExtChannelName = keyof typeof EXT_CHANNELS;

export function isExtMethod(s: unknown): s is ExtMethodName {
  return typeof s === 'string' && Object.hasOwn(EXT_METHODS, s);
}
export function isExtChannel(s: unknown): s is ExtChannelName {
  return typeof s === 'string' && Object.hasOwn(EXT_CHANNELS, s);
}
