import {describe, expect, it} from 'vitest';
import * as z from 'zod';
import {databaseSchema} from '../source/core/model.js';
import {SECTION_LAYOUT, sharedFieldsOf} from '../source/store/record-lines.js';

describe('the sections a store read goes through (store/record-lines.ts SECTION_LAYOUT)', () => {
	it('are databaseSchema’s keys in its order, its lists marked, with the shared fields each list’s records and each record have', () => {
		const shape = databaseSchema().shape as Record<string, z.ZodType>;
		expect(SECTION_LAYOUT.map(([key]) => key)).toEqual(Object.keys(shape));
		for (const [key, list, shared] of SECTION_LAYOUT) {
			const schema = shape[key]!;
			expect(list, key).toBe(schema instanceof z.ZodArray);
			const record = schema instanceof z.ZodArray ? (schema.element as z.ZodType) : schema;
			// Only records share fields: a section that is a number has none.
			expect(shared, key).toEqual(record instanceof z.ZodObject ? sharedFieldsOf(record) : []);
		}
	});
});
