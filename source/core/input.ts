import type * as z from 'zod';
import {invalid} from './errors.js';

/**
 * Checks input against a schema derived from the model (core/model.ts) and returns the parsed
 * value; otherwise throws the first problem as the one-sentence `invalid` error. The model's
 * schemas carry those sentences, so the store's checks and the door's are one rule.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
	const parsed = schema.safeParse(input);
	if (parsed.success) return parsed.data;
	throw invalid(parsed.error.issues[0]!.message);
}
