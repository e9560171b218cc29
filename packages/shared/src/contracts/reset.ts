import { z } from 'zod';
import { IdSchema } from './common.ts';

/** `POST /sync/reset`: forget the server's record of one device of the caller. */
export const ResetRequestSchema = z.object({ deviceId: IdSchema });
export type ResetRequest = z.infer<typeof ResetRequestSchema>;

export const ResetResultSchema = z.object({ deviceId: z.string(), reset: z.literal(true) });
export type ResetResult = z.infer<typeof ResetResultSchema>;
