import {readFileSync} from 'node:fs';

/** One figure a benchmark measured, with the budget it is held to (DESIGN §8), if any. */
export type Figure = {
	readonly name: string;
	readonly unit: 'ms' | 'MB' | 's' | '%' | 'req/s' | 'requests';
	/** Median of the samples (for timings). */
	readonly median?: number;
	/** 95th percentile of the samples, where the budget or the reader cares about the tail. */
	readonly p95?: number;
	/** A single value (peak memory, a one-off time). */
	readonly value?: number;
	readonly samples?: number;
	/** Which statistic the budget applies to, and its limit in `unit`. */
	readonly budget?: Budget;
	/**
	 * The floor of the same figure measured in the same run (DESIGN §8: `node -e 0`, or a bundled
	 * Ink "hello" for console figures), in `unit`: printed beside the figure with the ratio.
	 */
	readonly floor?: number;
	/** What the floor is (`node -e 0`, `Ink hello`), printed with it. */
	readonly floorOf?: string;
	readonly note?: string;
};

/** A limit on one statistic of a figure (bench/budgets.ts holds them all). */
export type Budget = {readonly of: 'median' | 'p95' | 'value'; readonly limit: number};

/** A benchmark file exports one of these; bench/run.ts lists them in its registry. */
export type Benchmark = {
	readonly name: string;
	readonly run: () => Promise<readonly Figure[]>;
};

/** The median and 95th percentile of timings. */
export function summarize(samples: readonly number[]): {median: number; p95: number} {
	const sorted = [...samples].sort((a, b) => a - b);
	const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
	const mid = sorted.length / 2;
	const median = sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
	return {median, p95: at(0.95)};
}

/** Whether a figure is within its budget (undefined when it has none). */
export function withinBudget(figure: Figure): boolean | undefined {
	if (!figure.budget) return undefined;
	const measured = figure[figure.budget.of];
	return measured !== undefined && measured <= figure.budget.limit;
}

/**
 * `npm run bench -- --quick` (or ORGCTL_BENCH_QUICK=1): the same store sizes and budgets with fewer
 * samples, so a whole run fits in a few minutes. The figures are then rougher, not different.
 */
export const QUICK = process.argv.includes('--quick') || process.env['ORGCTL_BENCH_QUICK'] === '1';

/** `full` samples, or `quick` of them in a quick run. */
export function samplesFor(full: number, quick: number): number {
	return QUICK ? quick : full;
}

/** Peak resident memory (VmHWM) of another process so far, in MB (Linux). */
export function peakRssMbOf(pid: number): number {
	const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
	return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** Peak resident memory of this process so far, in MB (VmHWM on Linux, else the current RSS). */
export function peakRssMb(): number {
	try {
		const status = readFileSync('/proc/self/status', 'utf8');
		const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
		if (match) return Number(match[1]) / 1024;
	} catch {
		// Not Linux: fall through.
	}
	return process.memoryUsage().rss / 1024 / 1024;
}

