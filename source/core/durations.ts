import {invalid} from './errors.js';

const UNIT_SECONDS = {s: 1, m: 60, h: 3600, d: 86_400} as const;
const DURATION = /^(\d+)\s*([smhd]?)$/;

/**
 * `7d`, `12h`, `90m`, `30s` or a bare number of seconds, as seconds; undefined when the text is not
 * a duration (or, with `unitRequired`, has no unit). The one duration syntax of orgctl: the
 * invitation lifetime and `audit --since 2h` both read it.
 */
export function durationSeconds(text: string, options: {unitRequired?: boolean} = {}): number | undefined {
	const match = DURATION.exec(text.trim());
	if (!match || (options.unitRequired && match[2] === '')) return undefined;
	return Number(match[1]) * (match[2] ? UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS] : 1);
}

/** A duration people typed, in seconds, or one sentence saying how to write it. */
export function parseDuration(text: string): number {
	const seconds = durationSeconds(text);
	if (seconds === undefined) throw invalid(`"${text}" is not a duration; write it as 7d, 12h or 90m.`);
	return seconds;
}

/** Seconds as orgctl's duration syntax, in the largest unit that divides them: 604800 → `7d`, 5400 → `90m`. */
export function formatDuration(seconds: number): string {
	for (const unit of ['d', 'h', 'm'] as const) {
		if (seconds > 0 && seconds % UNIT_SECONDS[unit] === 0) return `${seconds / UNIT_SECONDS[unit]}${unit}`;
	}
	return `${seconds}s`;
}
