import {describe, expect, it} from 'vitest';
import {once} from '../source/core/once.js';

describe('once (source/core/once.ts)', () => {
	it('makes its value on the first call only, an undefined value too', () => {
		let calls = 0;
		const made = once(() => {
			calls++;
			return undefined;
		});
		expect(calls).toBe(0);
		expect(made()).toBeUndefined();
		expect(made()).toBeUndefined();
		expect(calls).toBe(1);
	});

	it('gives the very same object every time', () => {
		const made = once(() => ({}));
		expect(made()).toBe(made());
	});
});
