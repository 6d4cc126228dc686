import * as z from 'zod';
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

/**
 * A whole number as people type it in a form ("2525", " 8080 ") or as a flag gives it (2525):
 * digits become the number and the model's schema judges it; anything else goes to the schema as
 * it is, so its sentence names what was typed ("… not abc.").
 */
export function typedNumber<S extends z.ZodType>(schema: S) {
	return z.preprocess((value: unknown) => (typeof value === 'string' && /^\s*\d{1,15}\s*$/.test(value) ? Number(value) : value), schema);
}
