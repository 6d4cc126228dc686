import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
		testTimeout: 60_000,
		hookTimeout: 60_000,
		// Store tests spawn processes and PTY tests spawn consoles: two cores, so keep parallelism modest.
		maxWorkers: 2,
		env: {NODE_ENV: 'test'},
	},
});
